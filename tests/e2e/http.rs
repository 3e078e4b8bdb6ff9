//! A small HTTP/1.1 client over `std::net`, written for probing services rather than for general
//! use: it keeps a connection open across requests (so a test knows the server has accepted it),
//! reads `Content-Length`, chunked and close-delimited bodies, and tells apart a request the server
//! never answered (connection closed before the first byte of a response, which a draining server
//! may do to an idle keep-alive connection) from a response cut off half-way, which is always a bug.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long any single read or write may block.
const IO_TIMEOUT: Duration = Duration::from_secs(15);

/// A complete response.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header fields in arrival order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The decoded body.
    pub body: Vec<u8>,
    /// Whether the server keeps the connection open for another request.
    pub keep_alive: bool,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON, when it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Why an exchange produced no complete response.
#[derive(Debug)]
pub enum Error {
    /// Connecting or sending failed, or the server closed the connection before answering.
    Unanswered(String),
    /// Part of a response arrived, then the connection broke or the bytes were not HTTP.
    Broken(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unanswered(why) => write!(f, "no response: {why}"),
            Error::Broken(why) => write!(f, "broken response: {why}"),
        }
    }
}

/// An open connection to a server on the loopback interface.
pub struct Connection {
    port: u16,
    reader: BufReader<TcpStream>,
}

impl Connection {
    /// Connects to `127.0.0.1:port`.
    pub fn open(port: u16) -> Result<Connection, Error> {
        let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), IO_TIMEOUT)
            .map_err(|e| Error::Unanswered(format!("connect to port {port}: {e}")))?;
        let configured = stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
            .and_then(|()| stream.set_nodelay(true));
        configured.map_err(|e| Error::Unanswered(format!("configure socket: {e}")))?;
        Ok(Connection { port, reader: BufReader::new(stream) })
    }

    /// Sends `GET path` with extra `headers` and reads the whole response.
    pub fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Result<Response, Error> {
        self.request("GET", path, headers, None)
    }

    /// Sends `method path` with extra `headers` and, when given, `body` (with its
    /// `Content-Length`), and reads the whole response. The body is written from another thread
    /// while the response is read, so a server that answers before reading all of it (a 413 for
    /// an oversized body) is heard rather than lost to a failed write.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response, Error> {
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUser-Agent: dozen-e2e\r\nAccept: */*\r\n",
            self.port
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = body {
            request.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        let label = format!("{method} {path}");
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .map_err(|e| Error::Unanswered(format!("send {label}: {e}")))?;
        let writer = match body {
            Some(body) if body.len() > 64 * 1024 => {
                let mut stream =
                    self.reader.get_ref().try_clone().map_err(|e| Error::Unanswered(format!("clone socket: {e}")))?;
                let body = body.to_vec();
                Some(std::thread::spawn(move || stream.write_all(&body)))
            }
            Some(body) => {
                self.reader
                    .get_mut()
                    .write_all(body)
                    .map_err(|e| Error::Unanswered(format!("send the body of {label}: {e}")))?;
                None
            }
            None => None,
        };
        let response = self.read_response().map_err(|e| match e {
            Error::Unanswered(why) => Error::Unanswered(format!("{label}: {why}")),
            Error::Broken(why) => Error::Broken(format!("{label}: {why}")),
        });
        if let Some(writer) = writer {
            // The server may close the connection without reading the rest: the write then fails,
            // which is allowed once a response has arrived.
            if response.is_ok() {
                let _ = self.reader.get_ref().shutdown(std::net::Shutdown::Write);
            }
            let _ = writer.join();
        }
        response
    }

    /// Waits up to `deadline` for the server to close this connection without a request being
    /// sent: Ok(true) on end of file (or a reset), Ok(false) when it stayed open, an error when
    /// unexpected bytes arrived.
    pub fn closed_by_server_within(&mut self, deadline: Duration) -> Result<bool, String> {
        let stream = self.reader.get_ref();
        let _ = stream.set_read_timeout(Some(deadline.max(Duration::from_millis(1))));
        let mut byte = [0; 1];
        let outcome = match self.reader.get_mut().read(&mut byte) {
            Ok(0) => Ok(true),
            Ok(_) => Err(format!("the server sent unrequested bytes: {:?}", char::from(byte[0]))),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Ok(true),
            Err(e) => Err(format!("reading an idle connection: {e}")),
        };
        let _ = self.reader.get_ref().set_read_timeout(Some(IO_TIMEOUT));
        outcome
    }

    /// Sets how long a read may block (the default is 15 s).
    pub fn set_read_timeout(&self, timeout: Duration) {
        let _ = self.reader.get_ref().set_read_timeout(Some(timeout));
    }

    fn read_response(&mut self) -> Result<Response, Error> {
        let mut status_line = String::new();
        match self.reader.read_line(&mut status_line) {
            Ok(0) => return Err(Error::Unanswered("connection closed".into())),
            Ok(_) => {}
            Err(e) => return Err(Error::Unanswered(e.to_string())),
        }
        let broken = |why: String| Error::Broken(why);
        let mut words = status_line.split_whitespace();
        let version = words.next().unwrap_or_default().to_string();
        let status = words
            .next()
            .and_then(|code| code.parse::<u16>().ok())
            .filter(|_| version.starts_with("HTTP/1."))
            .ok_or_else(|| broken(format!("not an HTTP status line: {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            let read = self.reader.read_line(&mut line).map_err(|e| broken(format!("reading headers: {e}")))?;
            if read == 0 {
                return Err(broken("connection closed inside the headers".into()));
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            let (name, value) =
                line.split_once(':').ok_or_else(|| broken(format!("malformed header line {line:?}")))?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.to_ascii_lowercase());
        let connection = find("connection").unwrap_or_default();
        let keep_alive =
            if version == "HTTP/1.0" { connection.contains("keep-alive") } else { !connection.contains("close") };
        let body = if status == 204 || status == 304 || (100..200).contains(&status) {
            Vec::new()
        } else if find("transfer-encoding").is_some_and(|te| te.contains("chunked")) {
            self.read_chunked().map_err(|e| broken(format!("reading chunked body: {e}")))?
        } else if let Some(length) = find("content-length") {
            let length: usize = length.parse().map_err(|_| broken(format!("bad content-length {length:?}")))?;
            let mut body = vec![0; length];
            self.reader.read_exact(&mut body).map_err(|e| broken(format!("reading {length}-byte body: {e}")))?;
            body
        } else {
            let mut body = Vec::new();
            self.reader.read_to_end(&mut body).map_err(|e| broken(format!("reading body to end: {e}")))?;
            return Ok(Response { status, headers, body, keep_alive: false });
        };
        Ok(Response { status, headers, body, keep_alive })
    }

    fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let mut size_line = String::new();
            if self.reader.read_line(&mut size_line)? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed before the last chunk"));
            }
            let size_text = size_line.trim().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailer fields, then the empty line that ends the message.
                loop {
                    let mut line = String::new();
                    if self.reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        return Ok(body);
                    }
                }
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.reader.read_exact(&mut body[start..])?;
            let mut crlf = [0; 2];
            self.reader.read_exact(&mut crlf)?;
        }
    }
}

/// One request on a fresh connection that is closed afterwards.
pub fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Result<Response, Error> {
    request(port, "GET", path, headers, None)
}

/// One request of any method, with an optional body, on a fresh connection closed afterwards.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Response, Error> {
    let mut all = headers.to_vec();
    all.push(("Connection", "close"));
    Connection::open(port)?.request(method, path, &all, body)
}

#[cfg(test)]
mod tests {
    use super::{Connection, Error, get};
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    use std::thread;

    /// Serves each accepted connection with the canned replies, one per request, then closes it.
    fn serve(replies: Vec<&'static str>) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut stream: TcpStream = stream;
            for reply in replies {
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                stream.write_all(reply.as_bytes()).unwrap();
            }
        });
        port
    }

    #[test]
    fn reads_length_and_chunked_bodies_on_one_connection() {
        let port = serve(vec![
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}",
            "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\nX-Request-Id: abc\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
        ]);
        let mut conn = Connection::open(port).unwrap();
        let first = conn.get("/health", &[]).unwrap();
        assert_eq!((first.status, first.text().as_str(), first.keep_alive), (200, "{\"status\":\"ok\"}", true));
        assert_eq!(first.header("CONTENT-TYPE"), Some("application/json"));
        let second = conn.get("/ready", &[("X-Request-Id", "abc")]).unwrap();
        assert_eq!((second.status, second.text().as_str()), (503, "Wikipedia"));
        assert_eq!(second.header("x-request-id"), Some("abc"));
    }

    #[test]
    fn reads_a_close_delimited_body() {
        let port = serve(vec!["HTTP/1.0 200 OK\r\n\r\n# TYPE x counter\n"]);
        let response = get(port, "/metrics", &[]).unwrap();
        assert_eq!((response.text().as_str(), response.keep_alive), ("# TYPE x counter\n", false));
    }

    #[test]
    fn a_close_before_any_byte_is_unanswered() {
        let port = serve(vec![]);
        assert!(matches!(get(port, "/", &[]), Err(Error::Unanswered(_))));
    }

    #[test]
    fn a_truncated_body_is_broken() {
        let port = serve(vec!["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]);
        assert!(matches!(get(port, "/", &[]), Err(Error::Broken(_))));
    }

    #[test]
    fn a_refused_connection_is_unanswered() {
        let port = crate::port::free();
        assert!(matches!(get(port, "/", &[]), Err(Error::Unanswered(_))));
    }
}
