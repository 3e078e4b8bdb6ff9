//! The project name and the forms code needs: a slug for directories and images, snake_case and
//! PascalCase for identifiers. Letters of every script are transliterated to ASCII first
//! (`deunicode`: `Café Münster` → `cafe-munster`, `東京` → `dong-jing`), then cut into words and
//! cased by `heck`. The case filters templates use are the same functions, so a name and a filtered
//! string can never disagree. Which names a stack cannot use is the pack's business (`reserved` in
//! its manifest); the rules here hold for every pack.

use heck::{ToKebabCase, ToLowerCamelCase, ToSnakeCase, ToUpperCamelCase};

use crate::error::{Error, Result};

/// Longest slug accepted (a DNS label, so it can name images, services and hosts).
const MAX_LEN: usize = 63;

/// Offered when a name has no letter or digit in any script (emoji only, punctuation only).
const FALLBACK_SUGGESTION: &str = "my-service";

/// A validated project name and its derived forms.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProjectName {
    /// As given.
    pub name: String,
    /// `my-service`.
    pub slug: String,
    /// `my_service`.
    pub snake: String,
    /// `MyService`.
    pub pascal: String,
    /// `myService`.
    pub camel: String,
}

impl ProjectName {
    /// Validates a name and derives its forms; refused names come with a suggestion.
    pub fn parse(name: &str) -> Result<ProjectName> {
        let slug = slug(name);
        let refuse =
            |reason: String, suggestion: Option<String>| Error::Name { name: name.to_owned(), reason, suggestion };
        if slug.is_empty() {
            return Err(refuse("it has no letters or digits".into(), Some(FALLBACK_SUGGESTION.to_owned())));
        }
        if slug.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(refuse("it starts with a digit".into(), Some(format!("app-{slug}"))));
        }
        if slug.len() > MAX_LEN {
            // The slug is ASCII, so any byte index is a character boundary.
            let cut = slug[..MAX_LEN].trim_end_matches('-').to_owned();
            return Err(refuse(format!("its slug is {} characters long, more than {MAX_LEN}", slug.len()), Some(cut)));
        }
        Ok(ProjectName { name: name.to_owned(), pascal: pascal(&slug), camel: camel(&slug), snake: snake(&slug), slug })
    }
}

/// The text with every letter and digit of any script written in ASCII, and everything else that
/// is not ASCII (emoji, symbols, punctuation of other scripts) turned into a word boundary.
/// Combining marks (a decomposed `é`) vanish without splitting the word they belong to.
fn ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        match deunicode::deunicode_char(c) {
            // Letters and digits of other scripts; CJK syllables come with a trailing space.
            // An uppercase letter written as several (`Æ` → `AE`) stays one word part (`Ae`), so
            // `Ærø` is `aero` and not `a-ero`.
            Some(latin) if c.is_uppercase() => {
                let mut letters = latin.chars();
                out.extend(letters.next());
                out.extend(letters.flat_map(char::to_lowercase));
            }
            Some(latin) if c.is_alphanumeric() => out.push_str(latin),
            // Combining marks and other zero-width characters.
            Some("") => {}
            // Emoji (which deunicode would spell out as `rocket`), symbols, unknown characters.
            _ => out.push(' '),
        }
    }
    out
}

/// `Café Münster` → `cafe-munster`.
pub fn slug(text: &str) -> String {
    ascii(text).to_kebab_case()
}

/// `Café Münster` → `cafe_munster`.
pub fn snake(text: &str) -> String {
    ascii(text).to_snake_case()
}

/// `my-service` → `MyService`.
pub fn pascal(text: &str) -> String {
    ascii(text).to_upper_camel_case()
}

/// `my-service` → `myService`.
pub fn camel(text: &str) -> String {
    ascii(text).to_lower_camel_case()
}

/// Whether `text` is one of `names`, compared as snake_case identifiers (so `tower-http`,
/// `tower_http` and `Tower HTTP` are the same name).
pub fn is_one_of(text: &str, names: &[String]) -> bool {
    // Reserved lists hold hundreds of names and are consulted for every answer of every
    // combination `pack test` resolves: each name's snake form is computed once per thread.
    thread_local! {
        static SNAKES: std::cell::RefCell<std::collections::HashMap<String, String>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    let wanted = snake(text);
    !wanted.is_empty()
        && SNAKES.with(|cache| {
            let mut cache = cache.borrow_mut();
            names.iter().any(|n| *cache.entry(n.clone()).or_insert_with(|| snake(n)) == wanted)
        })
}

/// The suggestion offered instead of a reserved name.
pub fn unreserved_suggestion(text: &str) -> String {
    format!("{}-service", slug(text))
}

#[cfg(test)]
mod tests {
    use super::{ProjectName, camel, is_one_of, pascal, slug, snake};

    #[test]
    fn derives_every_form() {
        let cases = [
            ("My Service", "my-service", "my_service", "MyService", "myService"),
            ("orderAPI v2", "order-api-v2", "order_api_v2", "OrderApiV2", "orderApiV2"),
            ("  billing__svc!! ", "billing-svc", "billing_svc", "BillingSvc", "billingSvc"),
        ];
        for (input, s, sn, p, c) in cases {
            assert_eq!(
                (slug(input), snake(input), pascal(input), camel(input)),
                (s.into(), sn.into(), p.into(), c.into()),
                "{input}"
            );
        }
    }

    #[test]
    fn names_in_every_script_are_transliterated() {
        let cases = [
            // Latin with diacritics, precomposed and decomposed (e + U+0301).
            ("Café Münster", "cafe-munster", "CafeMunster"),
            ("Cafe\u{301} Mu\u{308}nster", "cafe-munster", "CafeMunster"),
            ("Crème brûlée API", "creme-brulee-api", "CremeBruleeApi"),
            ("Łódź Ørsted Ærø", "lodz-orsted-aero", "LodzOrstedAero"),
            // German sharp s.
            ("Straßenbahn", "strassenbahn", "Strassenbahn"),
            // Greek.
            ("Αθήνα", "athena", "Athena"),
            // Cyrillic, with a soft sign (transliterated as an apostrophe, a word boundary).
            ("Москва", "moskva", "Moskva"),
            ("Гоголь сервис", "gogol-servis", "GogolServis"),
            ("Привет мир", "privet-mir", "PrivetMir"),
            // Japanese kana and kanji, Chinese.
            ("さくら", "sakura", "Sakura"),
            ("東京", "dong-jing", "DongJing"),
            ("北京服务", "bei-jing-fu-wu", "BeiJingFuWu"),
            // Emoji between words are boundaries, never words.
            ("rocket 🚀 launch", "rocket-launch", "RocketLaunch"),
            ("🦄unicorn", "unicorn", "Unicorn"),
        ];
        for (input, want_slug, want_pascal) in cases {
            let name = ProjectName::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!((name.slug.as_str(), name.pascal.as_str()), (want_slug, want_pascal), "{input}");
            assert!(name.snake.is_ascii() && name.camel.is_ascii(), "{input}: {name:?}");
            assert_eq!(name.snake, want_slug.replace('-', "_"), "{input}");
        }
    }

    #[test]
    fn refuses_bad_names_with_suggestions() {
        let cases = [
            ("", "no letters", Some("my-service")),
            ("!!!", "no letters", Some("my-service")),
            ("🚀🦄", "no letters", Some("my-service")),
            ("9lives", "starts with a digit", Some("app-9lives")),
            ("٣ stars", "starts with a digit", Some("app-3-stars")),
        ];
        for (input, reason, suggestion) in cases {
            match ProjectName::parse(input) {
                Err(crate::error::Error::Name { reason: r, suggestion: s, .. }) => {
                    assert!(r.contains(reason), "{input}: {r}");
                    assert_eq!(s.as_deref(), suggestion, "{input}");
                }
                other => panic!("{input}: expected a name error, got {other:?}"),
            }
        }
        assert!(ProjectName::parse(&"a".repeat(64)).is_err());
        assert_eq!(ProjectName::parse(&"a".repeat(63)).unwrap().slug.len(), 63);
        // A name of 30 Greek letters transliterates to more than 63 characters; the suggestion is
        // cut at a character boundary of the ASCII slug.
        match ProjectName::parse(&"θ".repeat(40)) {
            Err(crate::error::Error::Name { suggestion: Some(s), .. }) => assert_eq!(s.len(), 63, "{s}"),
            other => panic!("expected a length error, got {other:?}"),
        }
        // Words the old list refused for every pack are fine for the engine: the pack decides.
        for word in ["test", "async", "main", "email"] {
            assert_eq!(ProjectName::parse(word).unwrap().slug, word);
        }
    }

    #[test]
    fn reserved_names_compare_as_identifiers() {
        let names: Vec<String> = ["tower_http", "platform"].map(str::to_owned).to_vec();
        let cases = [
            ("tower-http", true),
            ("Tower HTTP", true),
            ("platform", true),
            ("Platform", true),
            ("platforms", false),
            ("tower", false),
            ("", false),
        ];
        for (text, want) in cases {
            assert_eq!(is_one_of(text, &names), want, "{text}");
        }
    }

    /// Resolves `answers` (question, value) for a pack without prompting.
    fn resolve(pack: &crate::pack::Pack, answers: &[(&str, &str)]) -> crate::error::Result<crate::answers::Answers> {
        let inputs = crate::answers::Inputs {
            explicit: answers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned(), format!("--{k}"))).collect(),
            user: [("name".to_owned(), "Ada".to_owned()), ("email".to_owned(), String::new())].into(),
            ..crate::answers::Inputs::default()
        };
        let renderer = crate::render::Renderer::bare();
        crate::answers::resolve(pack, &inputs, &renderer, &mut crate::prompt::NoPrompt)
    }

    /// `Ok(())`, or the refused question with its message and hint.
    fn outcome(result: crate::error::Result<crate::answers::Answers>) -> Result<(), (String, String, String)> {
        match result {
            Ok(_) => Ok(()),
            Err(crate::error::Error::Answers(problems)) => {
                // A refused `lang` also makes a `--stack` of that language unavailable (reported
                // second, as for any refused answer); the reserved name is the first problem.
                let p = &problems[0];
                Err((p.question.clone(), p.message.clone(), p.hint.clone()))
            }
            Err(other) => panic!("expected answer problems, got {other}"),
        }
    }

    #[test]
    fn the_builtin_pack_refuses_names_that_shadow_its_stacks() {
        let pack = crate::pack::Pack::load(&crate::pack::Source::Builtin("service".to_owned())).unwrap();
        // (name, lang, stack, refused by: None | Some(question)).
        let cases: &[(&str, &str, Option<&str>, Option<&str>)] = &[
            ("platform", "python", None, Some("lang")),
            ("email", "python", Some("flask"), Some("lang")),
            ("Typing", "python", Some("fastapi"), Some("lang")),
            ("test", "python", None, Some("lang")),
            ("email", "go", None, None),
            ("platform", "go", None, None),
            ("flask", "python", Some("flask"), Some("stack")),
            ("flask", "python", Some("fastapi"), None),
            ("fastapi", "python", Some("fastapi"), Some("stack")),
            ("prometheus-client", "python", Some("flask"), Some("stack")),
            ("axum", "rust", None, Some("stack")),
            ("tokio", "rust", None, Some("stack")),
            ("tower-http", "rust", None, Some("stack")),
            ("async", "rust", None, Some("lang")),
            ("test", "rust", None, Some("lang")),
            ("main", "rust", None, None),
            ("express", "node", None, Some("stack")),
            ("fs", "node", None, Some("lang")),
            ("worker-threads", "node", None, Some("lang")),
            ("email", "node", None, None),
            ("class", "java", None, Some("lang")),
            ("spring", "java", None, None),
            ("orders", "python", Some("flask"), None),
        ];
        for (name, lang, stack, refused_by) in cases {
            let mut answers = vec![("name", *name), ("lang", *lang)];
            answers.extend(stack.map(|s| ("stack", s)));
            let got = outcome(resolve(&pack, &answers));
            match (refused_by, got) {
                (None, Ok(())) => {}
                (Some(question), Err((q, message, hint))) => {
                    assert_eq!(q, *question, "{name} {lang}: {message}");
                    assert!(message.contains(&format!("{name:?}")) && message.contains("reserved when"), "{message}");
                    let suggestion = format!("try {:?}", super::unreserved_suggestion(name));
                    assert!(hint.starts_with(&suggestion), "{name} {lang}: {hint}");
                }
                (want, got) => panic!("{name} {lang} {stack:?}: expected refusal by {want:?}, got {got:?}"),
            }
        }
    }

    /// A pack, the answers given, and the question refused with part of its message.
    type Case<'a> = (&'a crate::pack::Pack, &'a [(&'a str, &'a str)], Option<(&'a str, &'a str)>);

    #[test]
    fn reserved_rules_of_a_custom_pack() {
        let pack = |questions: &str| {
            let text = format!("[pack]\nname = \"p\"\nversion = \"1.0.0\"\n{questions}");
            crate::pack::Pack {
                manifest: crate::pack::manifest::Manifest::parse(&text, "pack.toml").expect("parses"),
                files: std::collections::BTreeMap::new(),
                chain: vec![crate::pack::PackId {
                    name: "p".into(),
                    version: "1.0.0".into(),
                    source: "test".into(),
                    commit: None,
                }],
            }
        };
        let always = pack(
            "[[questions]]\nname = \"name\"\ntype = \"string\"\n\
             [[questions.reserved]]\nnames = [\"admin\"]\nreason = \"the platform's own service\"\n",
        );
        // The language is asked first here, so the name itself is refused.
        let name_last = pack(
            "[[questions]]\nname = \"lang\"\ntype = \"choice\"\nchoices = [\"go\", \"python\"]\n\
             [[questions]]\nname = \"name\"\ntype = \"string\"\n\
             [[questions.reserved]]\nwhen = \"lang == 'python'\"\nnames = [\"email\"]\nreason = \"a Python module\"\n",
        );
        let name_first = pack(
            "[[questions]]\nname = \"name\"\ntype = \"string\"\n\
             [[questions.reserved]]\nwhen = \"lang == 'python'\"\nnames = [\"email\"]\nreason = \"a Python module\"\n\
             [[questions]]\nname = \"lang\"\ntype = \"choice\"\nchoices = [\"go\", \"python\"]\n\
             [[questions]]\nname = \"db\"\ntype = \"choice\"\nchoices = [\"none\", \"postgres\"]\n",
        );
        let cases: &[Case<'_>] = &[
            (&always, &[("name", "admin")], Some(("name", "\"admin\" is reserved: the platform's own service"))),
            (&always, &[("name", "Admin")], Some(("name", "\"Admin\" is reserved"))),
            (&always, &[("name", "admin-ui")], None),
            (&name_last, &[("lang", "python"), ("name", "email")], Some(("name", "reserved when `lang == 'python'`"))),
            (&name_last, &[("lang", "go"), ("name", "email")], None),
            // Refused once, by the answer that makes the rule hold, not again by every later one.
            (
                &name_first,
                &[("name", "email"), ("lang", "python"), ("db", "postgres")],
                Some(("lang", "lang \"python\" cannot be used with name \"email\"")),
            ),
            (&name_first, &[("name", "email"), ("lang", "go"), ("db", "postgres")], None),
        ];
        for (pack, answers, want) in cases {
            match (want, outcome(resolve(pack, answers))) {
                (None, Ok(())) => {}
                (Some((question, text)), Err((q, message, _))) => {
                    assert_eq!((q.as_str(), message.contains(text)), (*question, true), "{answers:?}: {message}");
                }
                (want, got) => panic!("{answers:?}: expected {want:?}, got {got:?}"),
            }
        }
    }
}
