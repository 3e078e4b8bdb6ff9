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
    let mut valid: Vec<Vec<(String, String)>> = Vec::new();
    let mut seen = BTreeSet::new();
    for combo in product(&axes) {
        let inputs = inputs_for(&combo);
        if let Ok(resolved) = answers::resolve(&pack, &inputs, &renderer, &mut NoPrompt) {
            // Questions skipped by `when` make several combinations the same; keep one.
            let key: Vec<String> = resolved.values.iter().map(|a| format!("{}={}", a.name, a.value)).collect();
            if seen.insert(key) {
                let effective =
                    combo.into_iter().filter(|(k, _)| resolved.get(k).is_some()).collect::<Vec<(String, String)>>();
                valid.push(effective);
            }
        }
    }
    let combinations = valid.len();
    let sampled = combinations > max;
    let chosen = if sampled { all_pairs(&valid) } else { valid };
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
            let staged = crate::write::stage(&plan, &target, &crate::write::Interrupt::default())?;
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

fn product(axes: &[(String, Vec<String>)]) -> Vec<Vec<(String, String)>> {
    axes.iter().fold(vec![Vec::new()], |acc, (name, values)| {
        acc.into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push((name.clone(), v.clone()));
                    next
                })
            })
            .collect()
    })
}

/// Greedy all-pairs: repeatedly take the combination covering most uncovered value pairs.
fn all_pairs(combos: &[Vec<(String, String)>]) -> Vec<Vec<(String, String)>> {
    let pairs_of = |combo: &Vec<(String, String)>| -> Vec<String> {
        let mut pairs = Vec::new();
        for (i, a) in combo.iter().enumerate() {
            pairs.push(format!("{}={}", a.0, a.1));
            for b in &combo[i + 1..] {
                pairs.push(format!("{}={}&{}={}", a.0, a.1, b.0, b.1));
            }
        }
        pairs
    };
    let mut uncovered: BTreeSet<String> = combos.iter().flat_map(pairs_of).collect();
    let mut chosen = Vec::new();
    while !uncovered.is_empty() {
        let best = combos
            .iter()
            .max_by_key(|c| pairs_of(c).iter().filter(|p| uncovered.contains(*p)).count())
            .expect("combos is not empty while pairs remain");
        for pair in pairs_of(best) {
            uncovered.remove(&pair);
        }
        chosen.push(best.clone());
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::{all_pairs, product};

    #[test]
    fn all_pairs_covers_every_pair_with_fewer_cases() {
        let axes: Vec<(String, Vec<String>)> = ["a", "b", "c", "d"]
            .iter()
            .map(|n| ((*n).to_owned(), vec!["1".to_owned(), "2".to_owned(), "3".to_owned()]))
            .collect();
        let all = product(&axes);
        assert_eq!(all.len(), 81);
        let sample = all_pairs(&all);
        assert!(sample.len() < 20, "{} cases", sample.len());
        for x in ["a", "b", "c", "d"] {
            for y in ["a", "b", "c", "d"] {
                if x >= y {
                    continue;
                }
                for i in ["1", "2", "3"] {
                    for j in ["1", "2", "3"] {
                        assert!(
                            sample
                                .iter()
                                .any(|c| c.contains(&(x.into(), i.into())) && c.contains(&(y.into(), j.into()))),
                            "{x}={i} {y}={j} not covered"
                        );
                    }
                }
            }
        }
    }
}
