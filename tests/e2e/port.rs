//! Free TCP ports on the loopback interface, for the service under test and for PostgreSQL.
//! The kernel picks an unused port from its ephemeral range; it is released at once and handed to
//! the server, which binds it a moment later (on 0.0.0.0, as services do, or on loopback). The
//! kernel never hands out a port that is bound, so the window for a collision is that moment.

use std::net::TcpListener;

/// A loopback port that was free a moment ago.
pub fn free() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener.local_addr().expect("local address of a bound listener").port()
}

#[test]
fn free_ports_are_ephemeral_unbound_and_bindable_where_services_listen() {
    use std::net::TcpStream;
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap();
    let bounds: Vec<u16> = range.split_whitespace().map(|n| n.parse().unwrap()).collect();
    let mut held = Vec::new();
    for _ in 0..20 {
        let port = free();
        assert!((bounds[0]..=bounds[1]).contains(&port), "{port} is outside the ephemeral range {range}");
        assert!(!held.iter().any(|(p, _)| *p == port), "{port} was handed out while still bound");
        // Services bind every interface: the port must be free there, and then really listen.
        let listener = TcpListener::bind(("0.0.0.0", port)).expect("the port is free on 0.0.0.0");
        TcpStream::connect(("127.0.0.1", port)).expect("a client reaches the listener on loopback");
        held.push((port, listener));
    }
    let (port, listener) = held.pop().unwrap();
    assert!(TcpListener::bind(("127.0.0.1", port)).is_err(), "a bound port cannot be bound again");
    drop(listener);
    TcpListener::bind(("127.0.0.1", port)).expect("released, the port is free again");
}
