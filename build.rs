//! Records which files of the embedded packs are executable: include_dir keeps contents but not
//! modes, and generated scripts such as `mvnw` must stay runnable. It also turns the `DOZEN_E2E`
//! selection of the end-to-end tier into `e2e` cfg values, so that the tests a run does not select
//! are reported by cargo as ignored — never counted as passed.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=DOZEN_E2E");
    println!("cargo::rustc-check-cfg=cfg(e2e, values(any()))");
    println!("cargo::rustc-check-cfg=cfg(e2e_selected)");
    let selection = std::env::var("DOZEN_E2E").unwrap_or_default();
    if !selection.trim().is_empty() {
        println!("cargo:rustc-cfg=e2e_selected");
    }
    for filter in selection.split(',') {
        let filter = filter.trim().to_ascii_lowercase();
        if !filter.is_empty() {
            println!("cargo:rustc-cfg=e2e={filter:?}");
        }
    }
    println!("cargo:rerun-if-changed=templates");
    let root = Path::new("templates");
    let mut executables = Vec::new();
    collect(root, root, &mut executables);
    executables.sort();
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo")).join("executables.rs");
    let body = executables.iter().map(|p| format!("    {p:?},\n")).collect::<String>();
    std::fs::write(out, format!("/// Executable files of the embedded packs, relative to `templates/`.\npub static EXECUTABLES: &[&str] = &[\n{body}];\n"))
        .expect("write executables.rs");
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        println!("cargo:rerun-if-changed={}", path.display());
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            collect(root, &path, out);
        } else if is_executable(&meta) {
            let rel = path.strip_prefix(root).expect("under root").to_string_lossy().replace('\\', "/");
            out.push(rel);
        }
    }
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}
