//! `dozen pack test`: render a pack over the combinations of its choice and bool answers, fail on
//! any render error, and (with `--trust`) run the pack's declared checks in each output. When the
//! product of combinations is larger than `max`, a sample is taken that still covers every pair
//! of values of every two questions ("all pairs"), greedily and deterministically.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::answers::{self, Inputs};
use crate::error::{Error, Problem, Result};
use crate::pack::{Pack, Source};
use crate::prompt::NoPrompt;
use crate::render::Renderer;
use crate::value::Kind;

/// One tested combination.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    /// The answers that vary, as `key=value`.
    pub answers: Vec<String>,
    /// Files rendered.
    pub files: usize,
    /// Checks run (with `--trust`).
    pub checks: Vec<String>,
}

/// Result of `pack test`.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    /// The pack.
    pub pack: crate::pack::PackId,
    /// Valid combinations in the full product.
    pub combinations: usize,
    /// Whether a pairwise sample was taken.
    pub sampled: bool,
    /// The cases rendered.
    pub cases: Vec<Case>,
    /// Whether checks ran.
    pub checks_ran: bool,
}

/// Declared products up to this size are enumerated (one combination at a time, never held all at
/// once) to count the valid combinations exactly; larger ones are only sampled.
const ENUMERATE_LIMIT: u128 = 4096;

/// Calls of `effective` that counting the valid combinations of a large product may spend; past
/// it, the declared product is reported instead (only packs whose conditions name many earlier
/// answers get there).
const COUNT_BUDGET: usize = 50_000;

/// One combination: the value of each choice or bool question that applies, in question order.
type Combo = Vec<(String, String)>;

/// The combination some explicit answers make, or None when they are refused.
type Effective<'a> = dyn FnMut(&[(String, String)]) -> Option<Combo> + 'a;

/// Tests a pack.
pub fn test(source: &Source, trust: bool, max: usize) -> Result<TestReport> {
    let pack = Pack::load(source)?;
    let renderer = Renderer::for_pack(&pack)?;
    let axes: Vec<(String, Vec<String>)> = pack
        .manifest
        .questions
        .iter()
        .filter_map(|q| match q.kind {
            Kind::Bool => Some((q.name.clone(), vec!["true".to_owned(), "false".to_owned()])),
            Kind::Choice => Some((q.name.clone(), q.choices.iter().map(|c| c.value().to_owned()).collect())),
            _ => None,
        })
        .collect();
    // The sampler asks for the same answers again and again: each is resolved once.
    let mut known: std::collections::HashMap<Combo, Option<Combo>> = std::collections::HashMap::new();
    let mut effective = |explicit: &[(String, String)]| {
        known.entry(explicit.to_vec()).or_insert_with(|| effective(&pack, &renderer, &axes, explicit)).clone()
    };
    let declared = axes.iter().fold(1u128, |n, (_, values)| n.saturating_mul(values.len() as u128));
    let (combinations, chosen) = if declared <= ENUMERATE_LIMIT {
        let mut valid: Vec<Combo> = Vec::new();
        let mut seen = BTreeSet::new();
        for combo in Product::new(&axes) {
            // Questions skipped by `when` make several combinations the same; keep one.
            if let Some(combo) = effective(&combo)
                && seen.insert(combo.clone())
            {
                valid.push(combo);
            }
        }
        let count = valid.len();
        (count, if count > max { all_pairs(&axes, &mut effective) } else { valid })
    } else {
        let count = Counter::new(&pack, &axes)
            .count(&[], 0, &mut effective)
            .unwrap_or_else(|| usize::try_from(declared).unwrap_or(usize::MAX));
        (count, all_pairs(&axes, &mut effective))
    };
    let sampled = combinations > max;
    if !trust && !pack.manifest.checks.is_empty() {
        crate::output::to_stderr(&format!(
            "note: {} check(s) declared; pass --trust to run them\n",
            pack.manifest.checks.len()
        ));
    }
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for combo in chosen {
        let label: Vec<String> = combo.iter().map(|(k, v)| format!("{k}={v}")).collect();
        renderer.start_run();
        let resolved = answers::resolve(&pack, &inputs_for(&combo), &renderer, &mut NoPrompt)?;
        let plan = match crate::plan::build(&pack, &resolved, &renderer) {
            Ok(plan) => plan,
            Err(err) => {
                problems
                    .push(Problem::new(label.join(" "), err.to_string()).hint("fix the template for these answers"));
                continue;
            }
        };
        let mut checks = Vec::new();
        if trust && !pack.manifest.checks.is_empty() {
            let dir = tempfile::tempdir().map_err(crate::error::io("creating", std::env::temp_dir()))?;
            let target = dir.path().join("out");
            let staged = plan.stage(&target, &crate::write::Interrupt::default())?;
            staged.commit(&crate::write::Interrupt::default())?;
            let context = resolved.context();
            let active: Vec<&crate::pack::manifest::Command> = pack
                .manifest
                .checks
                .iter()
                .filter(|c| {
                    c.when.as_ref().is_none_or(|w| renderer.condition(w, &context, "pack.toml: check").unwrap_or(false))
                })
                .collect();
            match crate::hook::run_all("check", &active, &target, &resolved) {
                Ok(runs) => checks.extend(runs.into_iter().map(|r| r.command)),
                Err(err) => problems
                    .push(Problem::new(label.join(" "), err.to_string()).hint("the check failed for these answers")),
            }
        }
        cases.push(Case { answers: label, files: plan.files.len(), checks });
    }
    if !problems.is_empty() {
        return Err(Error::Pack { pack: source.to_string(), problems });
    }
    Ok(TestReport { pack: pack.id().clone(), combinations, sampled, cases, checks_ran: trust })
}

/// The combination that results from some explicit answers (defaults and `when` decide the rest;
/// a bool without a default that is not given takes its first value), or None when they are refused.
fn effective(
    pack: &Pack,
    renderer: &Renderer,
    axes: &[(String, Vec<String>)],
    explicit: &[(String, String)],
) -> Option<Combo> {
    let mut explicit = explicit.to_vec();
    for _ in 0..=axes.len() {
        match answers::resolve(pack, &inputs_for(&explicit), renderer, &mut NoPrompt) {
            Ok(resolved) => {
                return Some(
                    axes.iter()
                        .filter_map(|(name, _)| resolved.get(name).map(|v| (name.clone(), v.to_string())))
                        .collect(),
                );
            }
            Err(Error::Missing(missing)) => {
                let before = explicit.len();
                for name in missing {
                    if let Some((_, values)) = axes.iter().find(|(n, _)| *n == name)
                        && let Some(first) = values.first()
                    {
                        explicit.push((name, first.clone()));
                    }
                }
                if explicit.len() == before {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
    None
}

fn inputs_for(combo: &[(String, String)]) -> Inputs {
    let mut explicit: Vec<(String, String, String)> =
        combo.iter().map(|(k, v)| (k.clone(), v.clone(), "pack test".to_owned())).collect();
    explicit.push(("name".to_owned(), "pack-test".to_owned(), "pack test".to_owned()));
    Inputs {
        explicit,
        interactive: false,
        user: [("name".to_owned(), "Pack Test".to_owned()), ("email".to_owned(), String::new())].into(),
        ..Inputs::default()
    }
}

/// Counts valid combinations depth-first in question order without visiting each one: the
/// number of completions of a prefix depends only on the prefix's answers that later questions'
/// conditions and defaults mention, so prefixes alike in those share one count.
struct Counter<'a> {
    axes: &'a [(String, Vec<String>)],
    /// For each axis, the earlier axes named by the text of its question or any later one.
    mentioned: Vec<Vec<usize>>,
    known: std::collections::HashMap<(usize, Vec<(usize, String)>), usize>,
    budget: usize,
}

impl<'a> Counter<'a> {
    fn new(pack: &Pack, axes: &'a [(String, Vec<String>)]) -> Counter<'a> {
        let text_of = |name: &str| -> String {
            let Some(q) = pack.manifest.questions.iter().find(|q| q.name == name) else { return String::new() };
            let mut text = q.when.clone().unwrap_or_default();
            for choice in &q.choices {
                text.push(' ');
                text.push_str(choice.when().unwrap_or_default());
            }
            if let Some(toml::Value::String(default)) = &q.default {
                text.push(' ');
                text.push_str(default);
            }
            for rule in &q.reserved {
                text.push(' ');
                text.push_str(rule.when.as_deref().unwrap_or_default());
            }
            text
        };
        let texts: Vec<String> = axes.iter().map(|(name, _)| text_of(name)).collect();
        let mentioned = (0..axes.len())
            .map(|k| {
                let later = texts[k..].join(" ");
                let words: BTreeSet<&str> = later.split(|c: char| !c.is_alphanumeric() && c != '_').collect();
                (0..k).filter(|&i| words.contains(axes[i].0.as_str())).collect()
            })
            .collect();
        Counter { axes, mentioned, known: std::collections::HashMap::new(), budget: COUNT_BUDGET }
    }

    /// Valid combinations extending `explicit` (answers to the axes before `k`, or fewer when
    /// skipped) with answers to the axes from `k` on; None when the budget runs out.
    fn count(&mut self, explicit: &[(String, String)], k: usize, effective: &mut Effective<'_>) -> Option<usize> {
        let Some((name, values)) = self.axes.get(k) else { return Some(1) };
        let key: Vec<(usize, String)> = self.mentioned[k]
            .iter()
            .filter_map(|&i| explicit.iter().find(|(n, _)| *n == self.axes[i].0).map(|(_, v)| (i, v.clone())))
            .collect();
        if let Some(&n) = self.known.get(&(k, key.clone())) {
            return Some(n);
        }
        let mut total = 0;
        for value in values {
            let mut attempt = explicit.to_vec();
            attempt.push((name.clone(), value.clone()));
            self.budget = self.budget.checked_sub(1)?;
            let Some(combo) = effective(&attempt) else { continue };
            if !combo.iter().any(|(n, v)| n == name && v == value) {
                // Skipped by its `when`: every value gives the same combinations.
                total = self.count(explicit, k + 1, effective)?;
                break;
            }
            total += self.count(&attempt, k + 1, effective)?;
        }
        self.known.insert((k, key), total);
        Some(total)
    }
}

/// Every combination of the axes' values, one at a time (an odometer over value indices).
struct Product<'a> {
    axes: &'a [(String, Vec<String>)],
    next: Option<Vec<usize>>,
}

impl<'a> Product<'a> {
    fn new(axes: &'a [(String, Vec<String>)]) -> Product<'a> {
        let empty = axes.iter().any(|(_, values)| values.is_empty());
        Product { axes, next: (!empty).then(|| vec![0; axes.len()]) }
    }
}

impl Iterator for Product<'_> {
    type Item = Combo;

    fn next(&mut self) -> Option<Combo> {
        let current = self.next.take()?;
        let combo =
            self.axes.iter().zip(&current).map(|((name, values), &i)| (name.clone(), values[i].clone())).collect();
        let mut following = current;
        for position in (0..following.len()).rev() {
            following[position] += 1;
            if following[position] < self.axes[position].1.len() {
                self.next = Some(following);
                break;
            }
            following[position] = 0;
        }
        Some(combo)
    }
}

/// A value pair to cover: (axis, value, axis, value) by index, the first axis before the second;
/// a single value is the pair of it with itself.
type Pair = (usize, usize, usize, usize);

/// Calls of `effective` spent looking for a combination that holds one hard pair.
const SEED_SEARCH_BUDGET: usize = 256;

/// Depth-first over the questions `k..=last` (except `skip`, already given), for explicit answers
/// whose combination `holds` the seed; None when none does or the budget runs out.
#[allow(clippy::too_many_arguments)]
fn search(
    axes: &[(String, Vec<String>)],
    explicit: &[(String, String)],
    k: usize,
    last: usize,
    skip: usize,
    index: &dyn Fn(&Combo) -> Vec<Option<usize>>,
    holds: &dyn Fn(&[Option<usize>]) -> bool,
    effective: &mut Effective<'_>,
    budget: &mut usize,
) -> Option<Combo> {
    if k >= last {
        *budget = budget.checked_sub(1)?;
        return effective(explicit).filter(|combo| holds(&index(combo)));
    }
    if k == skip {
        return search(axes, explicit, k + 1, last, skip, index, holds, effective, budget);
    }
    for value in &axes[k].1 {
        let mut attempt = explicit.to_vec();
        attempt.push((axes[k].0.clone(), value.clone()));
        *budget = budget.checked_sub(1)?;
        if effective(&attempt).is_none() {
            continue;
        }
        if let Some(found) = search(axes, &attempt, k + 1, last, skip, index, holds, effective, budget) {
            return Some(found);
        }
    }
    None
}

/// An all-pairs sample built without the full product: each case starts from the first pair not
/// covered yet, then every other question, in order, takes the value that keeps that pair in the
/// case (answers may enable or refuse it through `when`) and covers most new pairs, as decided by
/// `effective` (the combination that results from some explicit answers, or None when refused). A
/// pair no case can hold is dropped. Deterministic; the work is cases × questions × values calls
/// of `effective`, whatever the size of the product.
fn all_pairs(axes: &[(String, Vec<String>)], effective: &mut Effective<'_>) -> Vec<Combo> {
    let index = |combo: &Combo| -> Vec<Option<usize>> {
        axes.iter()
            .map(|(name, values)| {
                combo.iter().find(|(n, _)| n == name).and_then(|(_, v)| values.iter().position(|x| x == v))
            })
            .collect()
    };
    let pairs_of = |values: &[Option<usize>]| -> Vec<Pair> {
        let mut pairs = Vec::new();
        for (i, a) in values.iter().enumerate() {
            let Some(a) = *a else { continue };
            pairs.push((i, a, i, a));
            for (j, b) in values.iter().enumerate().skip(i + 1) {
                if let Some(b) = *b {
                    pairs.push((i, a, j, b));
                }
            }
        }
        pairs
    };
    let mut uncovered: BTreeSet<Pair> = BTreeSet::new();
    for (i, (_, a)) in axes.iter().enumerate() {
        for x in 0..a.len() {
            uncovered.insert((i, x, i, x));
            for (j, (_, b)) in axes.iter().enumerate().skip(i + 1) {
                uncovered.extend((0..b.len()).map(|y| (i, x, j, y)));
            }
        }
    }
    let mut chosen: Vec<Combo> = Vec::new();
    while let Some(&seed) = uncovered.iter().next() {
        let (i, x, j, y) = seed;
        let holds_seed = |values: &[Option<usize>]| values[i] == Some(x) && values[j] == Some(y);
        let mut explicit: Combo = vec![(axes[i].0.clone(), axes[i].1[x].clone())];
        if j != i {
            explicit.push((axes[j].0.clone(), axes[j].1[y].clone()));
        }
        for (k, (name, values)) in axes.iter().enumerate() {
            if k == i || k == j {
                continue;
            }
            let mut best: Option<((bool, usize), &String)> = None;
            for value in values {
                let mut attempt = explicit.clone();
                attempt.push((name.clone(), value.clone()));
                let Some(combo) = effective(&attempt) else { continue };
                let values = index(&combo);
                let score = (holds_seed(&values), pairs_of(&values).iter().filter(|p| uncovered.contains(*p)).count());
                if best.as_ref().is_none_or(|(b, _)| score > *b) {
                    best = Some((score, value));
                }
            }
            if let Some((_, value)) = best {
                explicit.push((name.clone(), value.clone()));
            }
        }
        uncovered.remove(&seed);
        let Some(mut combo) = effective(&explicit) else { continue };
        if !holds_seed(&index(&combo)) {
            // The greedy choices shut the pair out (`stack=static` before `db=postgres`): search
            // the questions before the pair's second one (only they decide whether it is asked
            // and offered), within a budget.
            let mut budget = SEED_SEARCH_BUDGET;
            let seed_only = explicit[..if j == i { 1 } else { 2 }].to_vec();
            let Some(found) = search(axes, &seed_only, 0, j, i, &index, &holds_seed, effective, &mut budget) else {
                continue;
            };
            combo = found;
        }
        let values = index(&combo);
        let mut new = false;
        for pair in pairs_of(&values) {
            new |= uncovered.remove(&pair) || pair == seed;
        }
        if new && !chosen.contains(&combo) {
            chosen.push(combo);
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{Combo, Product, all_pairs};

    fn axes(spec: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        spec.iter().map(|(n, vs)| ((*n).to_owned(), vs.iter().map(|v| (*v).to_owned()).collect())).collect()
    }

    /// Every pair of values of two questions that some combination of `valid` holds.
    fn pairs(valid: &[Combo]) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for combo in valid {
            for (i, a) in combo.iter().enumerate() {
                for b in &combo[i..] {
                    out.insert((format!("{}={}", a.0, a.1), format!("{}={}", b.0, b.1)));
                }
            }
        }
        out
    }

    #[test]
    fn all_pairs_covers_every_pair_with_fewer_cases() {
        let axes =
            axes(&[("a", &["1", "2", "3"]), ("b", &["1", "2", "3"]), ("c", &["1", "2", "3"]), ("d", &["1", "2", "3"])]);
        let all: Vec<Combo> = Product::new(&axes).collect();
        assert_eq!(all.len(), 81);
        let sample = all_pairs(&axes, &mut |explicit| Some(complete(&axes, explicit)));
        assert!(sample.len() < 20, "{} cases", sample.len());
        assert_eq!(pairs(&sample), pairs(&all));
    }

    /// The explicit answers, the first value of every question not given.
    fn complete(axes: &[(String, Vec<String>)], explicit: &[(String, String)]) -> Combo {
        axes.iter()
            .map(|(name, values)| {
                let given = explicit.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
                (name.clone(), given.unwrap_or_else(|| values[0].clone()))
            })
            .collect()
    }

    #[test]
    fn twenty_four_bools_are_sampled_without_the_product() {
        let names: Vec<String> = (0..24).map(|i| format!("b{i}")).collect();
        let spec: Vec<(&str, &[&str])> = names.iter().map(|n| (n.as_str(), &["true", "false"][..])).collect();
        let axes = axes(&spec);
        let mut calls = 0usize;
        let start = std::time::Instant::now();
        let sample = all_pairs(&axes, &mut |explicit| {
            calls += 1;
            Some(complete(&axes, explicit))
        });
        // 2^24 = 16,777,216 combinations; the sample is a handful, found with a few thousand calls.
        assert!(sample.len() <= 16, "{} cases", sample.len());
        assert!(calls < 5_000, "{calls} calls");
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "{:?}", start.elapsed());
        for i in 0..24 {
            for j in i + 1..24 {
                for a in ["true", "false"] {
                    for b in ["true", "false"] {
                        let covered = sample.iter().any(|c| c[i].1 == a && c[j].1 == b);
                        assert!(covered, "b{i}={a} b{j}={b} not covered");
                    }
                }
            }
        }
    }

    #[test]
    fn pairs_with_dependent_choices_and_conditional_questions() {
        // stack's choices depend on lang; `orm` is asked only with a database; `db` is refused
        // with `stack=static`. The real answer resolution decides, through a pack.
        let text = r#"
[pack]
name = "p"
version = "1.0.0"

[[questions]]
name = "name"
type = "string"

[[questions]]
name = "lang"
type = "choice"
choices = ["python", "node", "go"]

[[questions]]
name = "stack"
type = "choice"
choices = [
  { value = "flask", when = "lang == 'python'" },
  { value = "fastapi", when = "lang == 'python'" },
  { value = "express", when = "lang == 'node'" },
  { value = "nethttp", when = "lang == 'go'" },
  { value = "static" },
]

[[questions]]
name = "db"
type = "choice"
choices = ["none", { value = "postgres", when = "stack != 'static'" }, { value = "sqlite", when = "stack != 'static'" }]

[[questions]]
name = "orm"
type = "bool"
when = "db != 'none'"
default = false

[[questions]]
name = "k8s"
type = "bool"
"#;
        let pack = crate::pack::Pack {
            manifest: crate::pack::manifest::Manifest::parse(text, "pack.toml").expect("parses"),
            files: std::collections::BTreeMap::new(),
            chain: vec![crate::pack::PackId {
                name: "p".into(),
                version: "1.0.0".into(),
                source: "test".into(),
                commit: None,
            }],
        };
        let renderer = crate::render::Renderer::bare();
        let axes = axes(&[
            ("lang", &["python", "node", "go"]),
            ("stack", &["flask", "fastapi", "express", "nethttp", "static"]),
            ("db", &["none", "postgres", "sqlite"]),
            ("orm", &["true", "false"]),
            ("k8s", &["true", "false"]),
        ]);
        let mut effective =
            |explicit: &[(String, String)]| -> Option<Combo> { super::effective(&pack, &renderer, &axes, explicit) };
        let valid: BTreeSet<Combo> = Product::new(&axes).filter_map(|c| effective(&c)).collect();
        assert_eq!(
            super::Counter::new(&pack, &axes).count(&[], 0, &mut effective),
            Some(valid.len()),
            "counting without the product finds every valid combination once"
        );
        let sample = all_pairs(&axes, &mut effective);
        assert!(sample.iter().all(|c| valid.contains(c)), "every case is a valid combination: {sample:#?}");
        assert!(sample.len() < valid.len(), "{} cases of {}", sample.len(), valid.len());
        let valid: Vec<Combo> = valid.into_iter().collect();
        let missing: Vec<_> = pairs(&valid).difference(&pairs(&sample)).cloned().collect();
        assert!(missing.is_empty(), "every pair some valid combination holds is covered; missing {missing:?}");
        // Pairs no combination holds are never claimed.
        assert!(!pairs(&sample).contains(&("lang=go".into(), "stack=flask".into())));
        assert!(!pairs(&sample).contains(&("stack=static".into(), "db=postgres".into())));
        assert!(pairs(&sample).contains(&("db=sqlite".into(), "orm=true".into())));
    }
}
