//! Command-line flags (clap) and their conversion into a validated `Request`. clap describes the
//! flags; `Cli::into_request` is the one pure function that turns them into domain values, so the
//! rules live in one place and are table-tested without a process.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::{Error, Result};
pub use crate::request::{
    AdoptRequest, FailOn, NewRequest, PackRequest, Repositories, Request, StatusRequest, UpdateManyRequest,
    UpdateRequest, Verbosity,
};

const NEW_EXAMPLES: &str = "Examples:
  dozen new                                   # ask everything (in a terminal)
  dozen new billing --yes                     # Rust/axum + Postgres + GitHub + AWS + kustomize defaults
  dozen new billing -y --set k8s=helm --set worker=redis --ci jenkins
  dozen new billing -y --lang python --stack flask --db none --ci gitlab --cloud gcp --no-k8s
  dozen new billing -y --set license=Apache-2.0 --answers team.toml -o ~/src
  dozen new billing -y --dry-run --json       # show the plan, write nothing
  dozen new billing -y --pack ./acme-pack     # a custom pack from a directory";

const LIST_EXAMPLES: &str = "Examples:
  dozen list
  dozen list --json | jq '.packs[0].questions[] | select(.name == \"stack\")'";

const UPDATE_EXAMPLES: &str = "Examples:
  dozen update                                # to the pack's current version, keeping your edits
  dozen update services/billing --dry-run     # what would change, with diffs; writes nothing
  dozen update --set ci=gitlab                # switch CI: GitLab files added, GitHub ones removed
  dozen update --set db=postgres --commit     # add a database later; commit when clean
  dozen update --pack-ref v2.0.0              # a git pack, to its tag v2.0.0
  dozen update --base $(git rev-list --max-parents=0 HEAD)   # a clone without refs/dozen/base
  dozen update --recursive ~/src              # every clean repository that is behind, each on a new branch
  dozen update svc-a svc-b --branch chore/pack-2.0 --dry-run
Exit codes: 0 clean, 1 conflicts remain (over many: an update failed), 2 bad input (dirty tree,
unknown answer, no base).";

const STATUS_EXAMPLES: &str = "Examples:
  dozen status                                # the repository here
  dozen status --recursive ~/src              # every generated repository under ~/src
  dozen status -r services --json | jq '.repositories[] | select(.state != \"current\")'
  dozen status -r . --fail-on behind,drifted  # in CI: exit 1 when one is behind or hand-edited
Exit codes: 0 done, 1 a repository is in a --fail-on state, 2 bad input (nothing found).";

const ADOPT_EXAMPLES: &str = "Examples:
  dozen adopt --pack ./acme-pack -y           # this repository, answers from defaults
  dozen adopt services/billing --pack https://git.example.com/acme/packs.git#v1.2.0 --set lang=go
  dozen adopt --pack acme --answers team.toml --dry-run   # how far it is from the pack; writes nothing
Exit codes: 0 adopted, 1 the work failed, 2 bad input (already generated, invalid answer).";

const COMPLETIONS_EXAMPLES: &str = "Examples:
  dozen completions bash > ~/.local/share/bash-completion/completions/dozen
  dozen completions zsh > \"${fpath[1]}/_dozen\"
  dozen completions fish > ~/.config/fish/completions/dozen.fish";

/// Scaffold twelve-factor service repositories that build, test, run and deploy.
#[derive(Debug, Parser)]
#[command(name = "dozen", version, about, long_about = None, after_help = "Examples:
  dozen new my-service            # interactive
  dozen new my-service --yes      # all defaults, no questions
  dozen list                      # stacks and options
  dozen update --set db=postgres  # add a database to a generated project later
Exit codes: 0 success, 1 the work failed, 2 bad input.")]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail (every file written).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Use git packs only from the cache; never fetch (new, update, status, adopt, pack add/check/test).
    #[arg(long, global = true, env = "DOZEN_OFFLINE")]
    pub offline: bool,
}

/// dozen's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a new project (asks in a terminal; never prompts otherwise).
    #[command(after_help = NEW_EXAMPLES)]
    New(NewArgs),
    /// Show the built-in packs, their stacks and options.
    #[command(after_help = LIST_EXAMPLES)]
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Re-render a generated project at a newer pack version or with changed answers, and
    /// three-way merge it into the working tree.
    #[command(after_help = UPDATE_EXAMPLES)]
    Update(UpdateArgs),
    /// Where generated repositories stand against their packs: current, behind (with or without
    /// conflicts), drifted, dirty or broken. Writes nothing.
    #[command(after_help = STATUS_EXAMPLES)]
    Status(StatusArgs),
    /// Bring an existing repository under a pack: record the answers and the pack version as its
    /// base, and report how far it is from a fresh render. Writes only `.dozen/answers.toml`.
    #[command(after_help = ADOPT_EXAMPLES)]
    Adopt(AdoptArgs),
    /// Author, check, test and install custom packs.
    #[command(subcommand)]
    Pack(PackCommand),
    /// Print shell completions.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

const PACK_EXAMPLES: &str = "Examples:
  dozen pack new acme-pack                    # scaffold a working pack
  dozen pack check ./acme-pack                # every problem at once, as file:line
  dozen pack test ./acme-pack --trust         # render every combination and run its checks
  dozen pack add https://git.example.com/acme/packs.git//service#v1.2.0 --name acme
  dozen pack list
  dozen new billing -y --pack acme";

/// `dozen pack …`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
#[command(after_help = PACK_EXAMPLES)]
pub enum PackCommand {
    /// Scaffold a new pack that passes `pack check` and `pack test`.
    #[command(after_help = PACK_EXAMPLES)]
    New {
        /// Directory to create.
        dir: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Validate a pack's manifest and templates; report every problem at once.
    #[command(after_help = PACK_EXAMPLES)]
    Check {
        /// Pack source: directory, git URL (URL//subdir#ref), built-in or installed name.
        src: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Render every combination of choice and bool answers (all-pairs sample when large) and run
    /// the pack's checks.
    #[command(after_help = PACK_EXAMPLES)]
    Test {
        /// Pack source.
        src: String,
        /// Run the commands the pack declares as checks.
        #[arg(long)]
        trust: bool,
        /// Above this many combinations, test an all-pairs sample.
        #[arg(long, default_value_t = 64)]
        max: usize,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Install a pack under the user data directory.
    #[command(after_help = PACK_EXAMPLES)]
    Add {
        /// Pack source.
        src: String,
        /// Name to install it as (default: the pack's name).
        #[arg(long)]
        name: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// List installed packs.
    #[command(after_help = PACK_EXAMPLES)]
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Remove an installed pack.
    #[command(after_help = PACK_EXAMPLES)]
    Remove {
        /// Installed name.
        name: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// Flags of `dozen new`.
#[derive(Debug, Args, Default)]
pub struct NewArgs {
    /// Project name; becomes the directory (`My Service` → `my-service`).
    pub name: Option<String>,
    /// Language (`--set lang=…`; the pack's choices: `dozen list`).
    #[arg(long, value_name = "VALUE")]
    pub lang: Option<String>,
    /// Stack (framework); implies its language when `--lang` is not given.
    #[arg(long, value_name = "VALUE")]
    pub stack: Option<String>,
    /// Database.
    #[arg(long, value_name = "VALUE")]
    pub db: Option<String>,
    /// CI system.
    #[arg(long, value_name = "VALUE")]
    pub ci: Option<String>,
    /// Cloud for the infrastructure code.
    #[arg(long, value_name = "VALUE")]
    pub cloud: Option<String>,
    /// `--set k8s=true`: Kubernetes manifests (the built-in pack: kustomize; `--set k8s=helm`).
    #[arg(long, overrides_with = "no_k8s")]
    pub k8s: bool,
    /// `--set k8s=false`: no Kubernetes manifests.
    #[arg(long)]
    pub no_k8s: bool,
    /// Pack: built-in name or directory.
    #[arg(long, value_name = "SRC")]
    pub pack: Option<String>,
    /// Answer any pack question (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Read answers from a TOML file (`key = value`, or a `.dozen/answers.toml`).
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Accept defaults for everything not given; never prompt.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Parent directory of the project.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub output: PathBuf,
    /// Write into an existing non-empty directory.
    #[arg(long)]
    pub force: bool,
    /// Do not create a git repository.
    #[arg(long)]
    pub no_git: bool,
    /// Inside an existing git work tree, add the new files to its index (never done otherwise).
    #[arg(long, conflicts_with = "no_git")]
    pub git_add: bool,
    /// Show the plan; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable output on stdout.
    #[arg(long)]
    pub json: bool,
    /// Allow the pack's hooks to run commands.
    #[arg(long)]
    pub trust: bool,
}

/// Flags of `dozen update`.
#[derive(Debug, Args, Default)]
pub struct UpdateArgs {
    /// The generated project, or a directory inside it (default `.`); several: update each on a
    /// new branch.
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Update every generated repository under DIR that is behind without conflicts, each on a
    /// new branch with one commit (repeatable).
    #[arg(short, long, value_name = "DIR", num_args = 0..=1, default_missing_value = ".")]
    pub recursive: Vec<PathBuf>,
    /// Over many repositories (or one): the branch each update is committed on
    /// (default `dozen/update-PACK-VERSION`).
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Change an answer (repeatable); what depends on it is added or removed.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Render this pack source instead of the recorded one (a moved directory, a git URL).
    #[arg(long, value_name = "SRC")]
    pub pack: Option<String>,
    /// Branch, tag or commit of a git pack to update to.
    #[arg(long, value_name = "REF")]
    pub pack_ref: Option<String>,
    /// Commit holding what dozen last generated, when refs/dozen/base is missing.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Show what would change, with diffs; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable output on stdout.
    #[arg(long)]
    pub json: bool,
    /// Commit the result when no conflict remains.
    #[arg(long, conflicts_with = "dry_run")]
    pub commit: bool,
    /// Run even though tracked files have uncommitted changes.
    #[arg(long)]
    pub allow_dirty: bool,
    /// Questions the newer pack asks that the record has no answer for take their defaults
    /// (without it they are asked in a terminal, or listed as missing).
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// Flags of `dozen status`.
#[derive(Debug, Args, Default)]
pub struct StatusArgs {
    /// Generated repositories, or directories inside them (default `.` without --recursive).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Every repository with a `.dozen/answers.toml` under DIR (repeatable; DIR defaults to `.`).
    #[arg(short, long, value_name = "DIR", num_args = 0..=1, default_missing_value = ".")]
    pub recursive: Vec<PathBuf>,
    /// Exit 1 when a repository is in one of these states (repeatable or comma-separated).
    #[arg(long, value_name = "STATE", value_delimiter = ',', value_enum)]
    pub fail_on: Vec<FailOnArg>,
    /// Machine-readable output on stdout.
    #[arg(long)]
    pub json: bool,
}

/// A `--fail-on` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOnArg {
    /// Behind its pack, with or without conflicts.
    Behind,
    /// Behind, and the update would conflict.
    Conflicts,
    /// Files changed away from the pack's output.
    Drifted,
    /// Uncommitted changes to tracked files.
    Dirty,
    /// The record or the pack cannot be read.
    Broken,
}

/// Flags of `dozen adopt`.
#[derive(Debug, Args, Default)]
pub struct AdoptArgs {
    /// The existing repository.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The pack to adopt: built-in name, directory, git URL (URL//subdir#ref) or installed name.
    #[arg(long, value_name = "SRC")]
    pub pack: String,
    /// Answer any pack question (repeatable); `name` defaults to the directory's name.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Read answers from a TOML file (`key = value`, or a `.dozen/answers.toml`).
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Accept defaults for everything not given; never prompt.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Compare the repository with a fresh render; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable output on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Whether raw arguments ask for `--json`, for errors found before they parse.
pub fn wants_json<I: IntoIterator<Item = std::ffi::OsString>>(args: I) -> bool {
    args.into_iter().skip(1).take_while(|a| a != "--").any(|a| a == "--json")
}

impl Cli {
    /// Validates the flags into a request.
    pub fn into_request(self) -> Result<(Request, Verbosity)> {
        let verbosity = match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (_, true) => Verbosity::Verbose,
            _ => Verbosity::Normal,
        };
        let request = match self.command {
            Command::New(args) => Request::New(args.into_request()?),
            Command::List { json } => Request::List { json },
            Command::Completions { shell } => Request::Completions(shell),
            Command::Pack(command) => Request::Pack(command.into_request()),
            Command::Update(args) => args.into_request()?,
            Command::Status(args) => Request::Status(args.into_request()),
            Command::Adopt(args) => Request::Adopt(args.into_request()?),
        };
        Ok((request, verbosity))
    }
}

impl PackCommand {
    fn into_request(self) -> PackRequest {
        match self {
            PackCommand::New { dir, json } => PackRequest::New { dir, json },
            PackCommand::Check { src, json } => PackRequest::Check { src, json },
            PackCommand::Test { src, trust, max, json } => PackRequest::Test { src, trust, max, json },
            PackCommand::Add { src, name, json } => PackRequest::Add { src, name, json },
            PackCommand::List { json } => PackRequest::List { json },
            PackCommand::Remove { name, json } => PackRequest::Remove { name, json },
        }
    }
}

impl NewArgs {
    fn into_request(self) -> Result<NewRequest> {
        let mut explicit = Vec::new();
        if let Some(name) = self.name {
            explicit.push(("name".to_owned(), name, "NAME argument".to_owned()));
        }
        let flags =
            [("lang", self.lang), ("stack", self.stack), ("db", self.db), ("ci", self.ci), ("cloud", self.cloud)];
        for (key, value) in flags {
            if let Some(value) = value {
                explicit.push((key.to_owned(), value, format!("--{key}")));
            }
        }
        if self.k8s || self.no_k8s {
            let (value, flag) = if self.no_k8s { ("false", "--no-k8s") } else { ("true", "--k8s") };
            explicit.push(("k8s".to_owned(), value.to_owned(), flag.to_owned()));
        }
        for item in self.set {
            let (key, value) = parse_set(&item)?;
            explicit.push((key.clone(), value, format!("--set {key}=…")));
        }
        Ok(NewRequest {
            pack: self.pack,
            explicit,
            answers_file: self.answers,
            yes: self.yes,
            output: self.output,
            force: self.force,
            git: !self.no_git,
            git_add: self.git_add,
            dry_run: self.dry_run,
            json: self.json,
            trust: self.trust,
        })
    }
}

impl UpdateArgs {
    /// One repository: an `UpdateRequest`; several, `--recursive` or `--branch`: an
    /// `UpdateManyRequest`, which takes none of the flags that only make sense for one.
    fn into_request(mut self) -> Result<Request> {
        if !self.recursive.is_empty() || self.dirs.len() > 1 || self.branch.is_some() {
            let single = [
                ("--set", !self.set.is_empty()),
                ("--pack", self.pack.is_some()),
                ("--pack-ref", self.pack_ref.is_some()),
                ("--base", self.base.is_some()),
                ("--commit", self.commit),
                ("--allow-dirty", self.allow_dirty),
            ];
            if let Some((flag, _)) = single.iter().find(|(_, given)| *given) {
                return Err(Error::Usage {
                    message: format!(
                        "{flag} applies to the update of one repository, not to --recursive, several paths or --branch"
                    ),
                    hint: format!("drop {flag}, or run `dozen update DIR {flag} …` in each repository"),
                });
            }
            if let Some(branch) = &self.branch
                && !git2::Branch::name_is_valid(branch).unwrap_or(false)
            {
                return Err(Error::Usage {
                    message: format!("--branch {branch:?} is not a valid git branch name"),
                    hint: "name a branch such as dozen/update-2024-06".into(),
                });
            }
            return Ok(Request::UpdateMany(UpdateManyRequest {
                repositories: Repositories { paths: self.dirs, recursive: self.recursive },
                branch: self.branch,
                yes: self.yes,
                dry_run: self.dry_run,
                json: self.json,
            }));
        }
        let mut explicit = Vec::new();
        for item in std::mem::take(&mut self.set) {
            let (key, value) = parse_set(&item)?;
            explicit.push((key.clone(), value, format!("--set {key}=…")));
        }
        Ok(Request::Update(UpdateRequest {
            dir: self.dirs.pop().unwrap_or_else(|| PathBuf::from(".")),
            explicit,
            pack: self.pack,
            pack_ref: self.pack_ref,
            base: self.base,
            dry_run: self.dry_run,
            json: self.json,
            commit: self.commit,
            allow_dirty: self.allow_dirty,
            yes: self.yes,
        }))
    }
}

impl StatusArgs {
    fn into_request(self) -> StatusRequest {
        let mut fail_on: Vec<FailOn> = self
            .fail_on
            .into_iter()
            .map(|arg| match arg {
                FailOnArg::Behind => FailOn::Behind,
                FailOnArg::Conflicts => FailOn::Conflicts,
                FailOnArg::Drifted => FailOn::Drifted,
                FailOnArg::Dirty => FailOn::Dirty,
                FailOnArg::Broken => FailOn::Broken,
            })
            .collect();
        fail_on.sort();
        fail_on.dedup();
        let paths =
            if self.paths.is_empty() && self.recursive.is_empty() { vec![PathBuf::from(".")] } else { self.paths };
        StatusRequest { repositories: Repositories { paths, recursive: self.recursive }, fail_on, json: self.json }
    }
}

impl AdoptArgs {
    fn into_request(self) -> Result<AdoptRequest> {
        let mut explicit = Vec::new();
        for item in self.set {
            let (key, value) = parse_set(&item)?;
            explicit.push((key.clone(), value, format!("--set {key}=…")));
        }
        Ok(AdoptRequest {
            dir: self.dir,
            pack: self.pack,
            explicit,
            answers_file: self.answers,
            yes: self.yes,
            dry_run: self.dry_run,
            json: self.json,
        })
    }
}

/// Splits `KEY=VALUE`.
pub fn parse_set(item: &str) -> Result<(String, String)> {
    let malformed = |why: &str| Error::Usage {
        message: format!("malformed --set {item:?}: {why}"),
        hint: "write --set KEY=VALUE, e.g. --set license=MIT".into(),
    };
    let (key, value) = item.split_once('=').ok_or_else(|| malformed("there is no `=`"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(malformed("the key is empty"));
    }
    if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(malformed("the key may hold only letters, digits and `_`"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Request, parse_set};

    fn request(args: &[&str]) -> Request {
        let mut argv = vec!["dozen"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("parses").into_request().expect("valid").0
    }

    #[test]
    fn flags_become_explicit_answers_in_order() {
        let Request::New(new) =
            request(&["new", "My Svc", "--lang", "go", "--no-k8s", "--set", "license=none", "--no-git"])
        else {
            panic!()
        };
        let keys: Vec<(&str, &str)> = new.explicit.iter().map(|(k, v, _)| (k.as_str(), v.as_str())).collect();
        assert_eq!(keys, [("name", "My Svc"), ("lang", "go"), ("k8s", "false"), ("license", "none")]);
        assert!(!new.git);
    }

    #[test]
    fn set_must_be_key_equals_value() {
        let cases = [
            ("a=b", Some(("a", "b"))),
            ("a==b", Some(("a", "=b"))),
            ("a=", Some(("a", ""))),
            ("ab", None),
            ("=b", None),
            ("a-b=c", None),
        ];
        for (input, want) in cases {
            let got = parse_set(input).ok();
            assert_eq!(got.as_ref().map(|(k, v)| (k.as_str(), v.as_str())), want, "{input}");
        }
    }

    #[test]
    fn dedicated_flags_are_answers_the_pack_validates() {
        let Request::New(new) = request(&["new", "--lang", "cobol", "--stack", "flask"]) else { panic!() };
        let keys: Vec<(&str, &str)> = new.explicit.iter().map(|(k, v, _)| (k.as_str(), v.as_str())).collect();
        assert_eq!(keys, [("lang", "cobol"), ("stack", "flask")]);
    }

    #[test]
    fn set_origins_never_hold_the_value() {
        let Request::New(new) = request(&["new", "--set", "token=hunter2"]) else { panic!() };
        assert_eq!(new.explicit[0].2, "--set token=…");
    }

    #[test]
    fn json_is_found_before_parsing() {
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert!(super::wants_json(args(&["dozen", "new", "--json", "--bogus"])));
        assert!(!super::wants_json(args(&["dozen", "new", "--", "--json"])));
        assert!(!super::wants_json(args(&["dozen", "list"])));
    }

    #[test]
    fn update_flags_become_an_update_request() {
        let Request::Update(update) = request(&["update", "svc", "--set", "ci=gitlab", "--pack-ref", "v2", "--commit"])
        else {
            panic!()
        };
        assert_eq!(update.dir, std::path::Path::new("svc"));
        assert_eq!(update.explicit, [("ci".to_owned(), "gitlab".to_owned(), "--set ci=…".to_owned())]);
        assert_eq!((update.pack_ref.as_deref(), update.commit, update.dry_run), (Some("v2"), true, false));
        let Request::Update(update) = request(&["update"]) else { panic!() };
        assert_eq!(update.dir, std::path::Path::new("."));
        assert!(Cli::try_parse_from(["dozen", "update", "--commit", "--dry-run"]).is_err(), "--commit writes");
        assert!(Cli::try_parse_from(["dozen", "update", "--set", "nokey"]).unwrap().into_request().is_err());
    }

    #[test]
    fn update_over_many_repositories_is_its_own_request() {
        let Request::UpdateMany(many) = request(&["update", "--recursive", "src", "--yes"]) else { panic!() };
        assert_eq!(many.repositories.recursive, [std::path::PathBuf::from("src")]);
        assert!(many.yes && many.branch.is_none());
        let Request::UpdateMany(many) = request(&["update", "a", "b", "--branch", "chore/pack"]) else { panic!() };
        assert_eq!(many.repositories.paths.len(), 2);
        assert_eq!(many.branch.as_deref(), Some("chore/pack"));
        let Request::UpdateMany(many) = request(&["update", "--recursive"]) else { panic!() };
        assert_eq!(many.repositories.recursive, [std::path::PathBuf::from(".")], "DIR defaults to .");
        let refused = |args: &[&str]| {
            let mut argv = vec!["dozen", "update"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv).unwrap().into_request().is_err()
        };
        assert!(refused(&["-r", "src", "--set", "ci=gitlab"]), "--set is for one repository");
        assert!(refused(&["a", "b", "--commit"]), "--commit is for one repository");
        assert!(refused(&["--branch", "bad..name"]), "an invalid branch name");
    }

    #[test]
    fn status_flags_become_a_status_request() {
        let Request::Status(status) = request(&["status"]) else { panic!() };
        assert_eq!(status.repositories.paths, [std::path::PathBuf::from(".")]);
        let Request::Status(status) =
            request(&["status", "-r", "src", "--fail-on", "drifted,behind", "--fail-on", "behind"])
        else {
            panic!()
        };
        assert!(status.repositories.paths.is_empty(), "--recursive alone looks only there");
        assert_eq!(status.fail_on, [super::FailOn::Behind, super::FailOn::Drifted]);
        assert!(Cli::try_parse_from(["dozen", "status", "--fail-on", "late"]).is_err());
    }

    #[test]
    fn adopt_needs_a_pack() {
        assert!(Cli::try_parse_from(["dozen", "adopt"]).is_err());
        let Request::Adopt(adopt) = request(&["adopt", "svc", "--pack", "p", "--set", "lang=go", "-y"]) else {
            panic!()
        };
        assert_eq!((adopt.dir.to_str(), adopt.pack.as_str(), adopt.yes), (Some("svc"), "p", true));
        assert_eq!(adopt.explicit[0].0, "lang");
    }
}
