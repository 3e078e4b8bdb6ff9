//! Free TCP ports on the loopback interface, for the service under test and for PostgreSQL.
//! The kernel picks an unused ephemeral port; it is released at once and handed to the server,
//! which binds it a moment later (ephemeral ports are handed out round-robin, so reuse is rare).

use std::net::TcpListener;

/// A loopback port that was free a moment ago.
pub fn free() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener.local_addr().expect("local address of a bound listener").port()
}

#[test]
fn free_ports_can_be_bound() {
    let port = free();
    assert_ne!(port, 0);
    TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
}
