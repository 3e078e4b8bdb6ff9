//! `healthcheck`: probes this instance's own `GET /health`, so that container images without
//! curl or a shell can still declare a `HEALTHCHECK`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, bail};

const TIMEOUT: Duration = Duration::from_secs(2);

/// Succeeds when `http://127.0.0.1:{port}/health` answers 200.
///
/// # Errors
///
/// Fails when the service cannot be reached within two seconds or answers anything but 200.
pub fn check(port: u16) -> anyhow::Result<()> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .with_context(|| format!("cannot connect to {address}"))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;

    let mut response = Vec::new();
    stream
        .take(8 * 1024)
        .read_to_end(&mut response)
        .context("no answer")?;
    let status_line = response
        .split(|byte| *byte == b'\r')
        .next()
        .unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line);
    if status_line.starts_with("HTTP/1.1 200 ") {
        Ok(())
    } else {
        bail!("GET /health answered {status_line:?}")
    }
}
