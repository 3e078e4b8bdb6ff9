//! Project names through the binary: names in any script become ASCII directories, and the
//! built-in pack refuses the names its chosen stack would shadow (and only those).

use crate::support::{Env, stderr};

#[test]
fn names_in_any_script_and_per_stack_reserved_names() {
    // (arguments, exit code, the directory made or a part of the error)
    let cases: &[(&[&str], i32, &str)] = &[
        (&["Café Münster", "--lang", "go"], 0, "cafe-munster"),
        (&["東京", "--lang", "go"], 0, "dong-jing"),
        (&["Straße", "--lang", "go"], 0, "strasse"),
        (&["🚀🦄", "--lang", "go"], 2, "no letters or digits"),
        (&["email", "--lang", "go"], 0, "email"),
        (&["platform", "--lang", "python"], 2, "\"platform\", which is reserved when `lang == 'python'`"),
        (&["email", "--lang", "python"], 2, "try \"email-service\" as name"),
        (&["flask", "--stack", "flask"], 2, "stack \"flask\" cannot be used with name \"flask\""),
        (&["flask", "--stack", "fastapi"], 0, "flask"),
        (&["express", "--lang", "node"], 2, "reserved when `stack == 'express'`"),
    ];
    for (args, code, want) in cases {
        let env = Env::new();
        let mut full = args.to_vec();
        full.extend(["--yes", "--no-git"]);
        let out = env.new_project(&full);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {err}");
        if *code == 0 {
            assert!(env.out().join(want).join(".dozen/answers.toml").is_file(), "{args:?}: {:?}", env.written());
        } else {
            assert!(err.contains(want), "{args:?}: {err}");
            assert!(env.written().is_empty(), "{args:?}: {:?}", env.written());
        }
    }
}
