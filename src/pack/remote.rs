//! The URL of a git pack repository, as a type that cannot leak its credentials.
//!
//! `https://user:TOKEN@host/repo.git` is accepted (it works like `git clone` with the same URL),
//! but the userinfo is kept apart: `Display`, `Debug`, the recorded source, the cache key and
//! every message show the URL without it. The credentials reach git only through a
//! credential helper reading the environment of the git process (never its command line, so
//! `ps` does not show them either). ssh user names (`git@host`) are not secrets and are kept:
//! without them the URL would not work again.

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

/// How git reaches the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `https://` or `http://`.
    Http,
    /// `ssh://`, `git+ssh://`, `ssh+git://` or the scp-like `user@host:path`.
    Ssh,
    /// `git://`.
    Git,
    /// `file://` or a path on this machine.
    Local,
}

/// A repository URL whose userinfo is never displayed, stored or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    /// Without credentials: what is shown, recorded, used as the cache key and given to git.
    public: String,
    transport: Transport,
    /// Percent-decoded user name of an http(s) URL.
    username: Option<String>,
    /// Percent-decoded password (or token) of the URL.
    password: Option<String>,
    /// The userinfo exactly as written, for scrubbing messages.
    raw_userinfo: Option<String>,
}

impl RemoteUrl {
    /// Recognises `https://`, `http://`, `ssh://`, `git+ssh://`, `git://`, `file://` URLs and the
    /// scp-like `user@host:path`. Anything else is not a URL (it may be a local repository path:
    /// see [`RemoteUrl::local`]).
    pub fn parse(text: &str) -> Option<RemoteUrl> {
        if let Some((scheme, rest)) = text.split_once("://") {
            let transport = match scheme.to_ascii_lowercase().as_str() {
                "https" | "http" => Transport::Http,
                "ssh" | "git+ssh" | "ssh+git" => Transport::Ssh,
                "git" => Transport::Git,
                "file" => Transport::Local,
                _ => return None,
            };
            let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
            let (userinfo, host) = match authority.rfind('@') {
                Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
                None => (None, authority),
            };
            if host.starts_with('-') || (transport != Transport::Local && host.is_empty()) {
                return None;
            }
            let (user, password) = match userinfo {
                Some(info) => match info.split_once(':') {
                    Some((user, password)) => (Some(user), Some(password)),
                    None => (Some(info), None),
                },
                None => (None, None),
            };
            // http(s) drops the whole userinfo (the credential helper supplies it next time);
            // ssh keeps the user name, which is needed to log in and is not a secret.
            let public = match (transport, user) {
                (Transport::Ssh, Some(user)) if !user.is_empty() => format!("{scheme}://{user}@{host}{path}"),
                _ => format!("{scheme}://{host}{path}"),
            };
            return Some(RemoteUrl {
                public,
                transport,
                username: user.filter(|u| !u.is_empty() && transport == Transport::Http).map(percent_decode),
                password: password.filter(|p| !p.is_empty()).map(percent_decode),
                raw_userinfo: userinfo.map(str::to_owned),
            });
        }
        // scp-like: user@host:path, with no `/` before the first `:`.
        let colon = text.find(':')?;
        let (authority, path) = (&text[..colon], &text[colon + 1..]);
        let (user, host) = authority.split_once('@')?;
        let valid = !user.is_empty()
            && !host.is_empty()
            && !host.starts_with('-')
            && !user.starts_with('-')
            && !authority.contains('/')
            && !path.is_empty();
        valid.then(|| RemoteUrl {
            public: text.to_owned(),
            transport: Transport::Ssh,
            username: None,
            password: None,
            raw_userinfo: None,
        })
    }

    /// A repository on this machine, by absolute path.
    pub fn local(path: &Path) -> RemoteUrl {
        RemoteUrl {
            public: path.display().to_string(),
            transport: Transport::Local,
            username: None,
            password: None,
            raw_userinfo: None,
        }
    }

    /// The URL without credentials: safe to show, record and hand to git.
    pub fn public(&self) -> &str {
        &self.public
    }

    /// How git reaches it.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Whether the repository is on this machine (no network involved).
    pub fn is_local(&self) -> bool {
        self.transport == Transport::Local
    }

    /// Credentials written into the URL: user name (http only) and password.
    pub(crate) fn credentials(&self) -> (Option<&str>, Option<&str>) {
        (self.username.as_deref(), self.password.as_deref())
    }

    /// `(host, port)` of an ssh URL, for the known_hosts hint.
    pub fn ssh_host_port(&self) -> Option<(String, Option<u16>)> {
        if self.transport != Transport::Ssh {
            return None;
        }
        let authority = match self.public.split_once("://") {
            Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
            None => self.public.split(':').next().unwrap_or(&self.public),
        };
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if let Some(inner) = host_port.strip_prefix('[') {
            let (host, rest) = inner.split_once(']')?;
            return Some((host.to_owned(), rest.strip_prefix(':').and_then(|p| p.parse().ok())));
        }
        Some(match host_port.rsplit_once(':') {
            Some((host, port)) if self.public.contains("://") => (host.to_owned(), port.parse().ok()),
            _ => (host_port.to_owned(), None),
        })
    }

    /// Removes this URL's credentials (as written and decoded) and any `user:password@` from text
    /// that came from git or a server.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        let secrets = [self.raw_userinfo.as_deref(), self.password.as_deref()];
        for secret in secrets.into_iter().flatten().filter(|s| !s.is_empty()) {
            out = out.replace(secret, "***");
        }
        if let Some(password) = &self.password {
            let encoded = percent_encode(password);
            if encoded != *password {
                out = out.replace(&encoded, "***");
            }
        }
        scrub_userinfo(&out)
    }
}

/// Replaces every `user:password@` in text with `***@`.
pub fn scrub_userinfo(text: &str) -> String {
    static PATTERN: OnceLock<regex::Regex> = OnceLock::new();
    let pattern = PATTERN
        .get_or_init(|| regex::Regex::new(r"[^\s/@:'\x22<>]+:[^\s/@'\x22<>]+@").expect("valid regular expression"));
    pattern.replace_all(text, "***@").into_owned()
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.public)
    }
}

impl fmt::Debug for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let note = if self.raw_userinfo.is_some() { " (credentials hidden)" } else { "" };
        write!(f, "RemoteUrl({:?}{note})", self.public)
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2))
        {
            out.push(u8::try_from(high * 16 + low).expect("two hex digits fit a byte"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{RemoteUrl, Transport, scrub_userinfo};

    #[test]
    fn http_credentials_never_show() {
        let url = RemoteUrl::parse("https://alice:t%40ken@git.example.com:8443/acme/packs.git").unwrap();
        assert_eq!(url.public(), "https://git.example.com:8443/acme/packs.git");
        assert_eq!(url.to_string(), url.public());
        assert!(!format!("{url:?}").contains("ken"), "{url:?}");
        assert_eq!(url.credentials(), (Some("alice"), Some("t@ken")));
        let scrubbed = url.scrub("fatal: 'https://alice:t%40ken@git.example.com' t@ken nope:other@x");
        assert!(!scrubbed.contains("ken") && !scrubbed.contains("other"), "{scrubbed}");
        let token_only = RemoteUrl::parse("https://TOKEN@host/r.git").unwrap();
        assert_eq!(token_only.public(), "https://host/r.git");
        assert!(!token_only.scrub("at https://TOKEN@host/r.git").contains("TOKEN"));
    }

    #[test]
    fn ssh_user_names_are_kept() {
        let url = RemoteUrl::parse("ssh://git@127.0.0.1:2222/srv/pack.git").unwrap();
        assert_eq!((url.public(), url.transport()), ("ssh://git@127.0.0.1:2222/srv/pack.git", Transport::Ssh));
        assert_eq!(url.ssh_host_port(), Some(("127.0.0.1".to_owned(), Some(2222))));
        let scp = RemoteUrl::parse("git@github.com:acme/packs.git").unwrap();
        assert_eq!((scp.public(), scp.transport()), ("git@github.com:acme/packs.git", Transport::Ssh));
        assert_eq!(scp.ssh_host_port(), Some(("github.com".to_owned(), None)));
        let with_password = RemoteUrl::parse("ssh://git:pw@host/x").unwrap();
        assert_eq!(with_password.public(), "ssh://git@host/x");
    }

    #[test]
    fn not_urls() {
        for text in ["./pack", "/abs/path", "ftp://host/x", "c:relative", "ssh://-oProxyCommand=x/y", "@host:x"] {
            assert!(RemoteUrl::parse(text).is_none(), "{text}");
        }
        assert!(RemoteUrl::parse("file:///srv/pack.git").unwrap().is_local());
    }

    #[test]
    fn generic_scrub() {
        assert_eq!(scrub_userinfo("see https://u:p@h/x and 'bob:pw@h'"), "see https://***@h/x and '***@h'");
        assert_eq!(scrub_userinfo("git@host:path ssh://git@h:22/x"), "git@host:path ssh://git@h:22/x");
    }
}
