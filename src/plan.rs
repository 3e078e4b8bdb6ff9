//! The plan: every file of the project, rendered in memory, with its final path and mode. Building
//! it touches no disk, which is what makes `--dry-run`, snapshots, atomic writes and `update`
//! (two plans, merged) cheap. Rendered paths are checked here, so an unsafe path never reaches the
//! writer.

use serde::Serialize;

use crate::answers::Answers;
use crate::error::Result;
use crate::pack::{Contents, Pack};
use crate::render::{Renderer, TEMPLATE_SUFFIX};

/// The bytes of a planned file.
#[derive(Debug, Clone)]
pub enum Body {
    /// Rendered text.
    Text(String),
    /// Copied byte for byte.
    Bytes(Contents),
}

impl Body {
    /// The bytes to write.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Body::Text(text) => text.as_bytes(),
            Body::Bytes(contents) => contents.bytes(),
        }
    }
}

/// One file of the plan.
#[derive(Debug, Clone)]
pub struct PlannedFile {
    /// Output path relative to the project root, `/`-separated.
    pub path: String,
    /// The pack file it came from (`layer/…`), or `dozen` for files dozen adds itself.
    pub source: String,
    /// Contents.
    pub body: Body,
    /// Whether it is executable.
    pub executable: bool,
    /// Whether it was rendered (vs copied).
    pub templated: bool,
}

/// What `--dry-run` and `--json` show of a file.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    /// Output path.
    pub path: String,
    /// Size in bytes.
    pub size: usize,
    /// Rendered from a template.
    pub templated: bool,
    /// Executable bit.
    pub executable: bool,
}

/// All files of a project.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Sorted by path.
    pub files: Vec<PlannedFile>,
}

impl Plan {
    /// Summaries for reports.
    pub fn summaries(&self) -> Vec<FileSummary> {
        self.files
            .iter()
            .map(|f| FileSummary {
                path: f.path.clone(),
                size: f.body.bytes().len(),
                templated: f.templated,
                executable: f.executable,
            })
            .collect()
    }

    /// Adds or replaces a file.
    pub fn insert(&mut self, file: PlannedFile) {
        match self.files.binary_search_by(|f| f.path.cmp(&file.path)) {
            Ok(i) => self.files[i] = file,
            Err(i) => self.files.insert(i, file),
        }
    }

    /// Total bytes.
    pub fn size(&self) -> usize {
        self.files.iter().map(|f| f.body.bytes().len()).sum()
    }
}

/// The full template context: answers, `project`, `user`, `data` (filtered by `when`), `pack`, `dozen`.
pub fn context(pack: &Pack, answers: &Answers, renderer: &Renderer) -> Result<tera::Context> {
    let mut context = answers.context();
    let data = filter_data(&toml::Value::Table(pack.manifest.data.clone()), renderer, &context)?;
    context.insert("data", &data);
    context
        .insert("pack", &serde_json::json!({ "name": pack.manifest.pack.name, "version": pack.manifest.pack.version }));
    context.insert("dozen", &serde_json::json!({ "version": crate::VERSION }));
    Ok(context)
}

/// Drops array items whose `when` is false (and the `when` key of the others).
fn filter_data(value: &toml::Value, renderer: &Renderer, context: &tera::Context) -> Result<toml::Value> {
    Ok(match value {
        toml::Value::Table(table) => {
            let mut out = toml::Table::new();
            for (k, v) in table {
                out.insert(k.clone(), filter_data(v, renderer, context)?);
            }
            toml::Value::Table(out)
        }
        toml::Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                if let toml::Value::Table(t) = item
                    && let Some(toml::Value::String(when)) = t.get("when")
                {
                    if !renderer.condition(when, context, "pack.toml: data")? {
                        continue;
                    }
                    let mut kept = t.clone();
                    kept.remove("when");
                    out.push(filter_data(&toml::Value::Table(kept), renderer, context)?);
                    continue;
                }
                out.push(filter_data(item, renderer, context)?);
            }
            toml::Value::Array(out)
        }
        other => other.clone(),
    })
}

/// The whole generated project: the pack's active layers plus the `.dozen/answers.toml` record.
pub fn project(pack: &Pack, answers: &Answers, renderer: &Renderer) -> Result<Plan> {
    let mut plan = build(pack, answers, renderer)?;
    plan.files.reserve_exact(1);
    plan.insert(PlannedFile {
        path: crate::record::PATH.to_owned(),
        source: "dozen".to_owned(),
        body: Body::Text(crate::record::Record::new(pack, answers).to_toml()),
        executable: false,
        templated: true,
    });
    Ok(plan)
}

/// Renders the pack's active layers into a plan.
pub fn build(pack: &Pack, answers: &Answers, renderer: &Renderer) -> Result<Plan> {
    let context = context(pack, answers, renderer)?;
    // In layer order; a later layer's file replaces an earlier one at the same path (below).
    let mut files: Vec<PlannedFile> = Vec::new();
    for layer in &pack.manifest.layers {
        if let Some(when) = &layer.when
            && !renderer.condition(when, &context, &format!("pack.toml: layer {:?}", layer.path))?
        {
            continue;
        }
        let prefix = format!("{}/", layer.path.trim_end_matches('/'));
        for (source, file) in pack.files.range(prefix.clone()..) {
            let Some(rel) = source.strip_prefix(&prefix) else { break };
            let Some(path) = render_path(rel, source, renderer, &context)? else { continue };
            let templated = path.ends_with(TEMPLATE_SUFFIX);
            let (path, body) = if templated {
                let path = path.trim_end_matches(TEMPLATE_SUFFIX).to_owned();
                let mut text = renderer.render_file(source, &context)?;
                // The engine's output buffer is a power of two above twice the template's size.
                text.shrink_to_fit();
                (path, Body::Text(text))
            } else {
                (path, Body::Bytes(file.contents.clone()))
            };
            crate::relpath::check(&path, source)?;
            files.push(PlannedFile { path, source: source.clone(), body, executable: file.executable, templated });
        }
    }
    // Sorted by path, the last file of each path kept (a stable sort keeps layer order within one).
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|later, earlier| {
        let same = later.path == earlier.path;
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });
    for removed in &pack.manifest.remove {
        let dir = format!("{}/", removed.trim_end_matches('/'));
        files.retain(|f| f.path != *removed && !f.path.starts_with(&dir));
    }
    files.shrink_to_fit();
    Ok(Plan { files })
}

impl Plan {
    /// Writes every planned file into a new staging directory beside `target`, through the one
    /// writer (`write.rs`).
    pub fn stage(&self, target: &std::path::Path, interrupt: &crate::write::Interrupt) -> Result<crate::write::Staged> {
        let files = self.files.iter().map(|f| (f.path.as_str(), f.body.bytes(), f.executable));
        crate::write::stage_files(files, target, interrupt)
    }
}

/// Renders the Tera in each path segment; `None` when a segment renders empty (the file is dropped).
fn render_path(rel: &str, source: &str, renderer: &Renderer, context: &tera::Context) -> Result<Option<String>> {
    if !rel.contains("{{") && !rel.contains("{%") {
        return Ok(Some(rel.to_owned()));
    }
    let mut segments = Vec::new();
    for segment in rel.split('/') {
        let rendered = if segment.contains("{{") || segment.contains("{%") {
            renderer.render_str(segment, context, &format!("{source} (file name)"))?
        } else {
            segment.to_owned()
        };
        if rendered.trim().is_empty() || rendered == TEMPLATE_SUFFIX {
            return Ok(None);
        }
        segments.push(rendered);
    }
    Ok(Some(segments.join("/")))
}
