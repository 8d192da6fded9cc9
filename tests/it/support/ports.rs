//! Ports for tests that stop a server and start another on the same port.

use std::sync::atomic::{AtomicU32, Ordering};

/// A free port below the kernel's ephemeral range. Once the first server stops, its port must
/// stay free for the second: a port from the ephemeral range (what port 0 gives) can meanwhile
/// be taken as the local port of any outgoing connection of the tests running beside this one.
pub fn outside_ephemeral_range() -> u16 {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let span = u32::from(low.saturating_sub(10_000).max(1));
    // Spread the start by process id (concurrent runs of the suite) and by call (tests of one
    // binary running in parallel), so that two callers rarely probe the same port.
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let first = std::process::id()
        .wrapping_mul(7919)
        .wrapping_add(call.wrapping_mul(1009))
        % span;
    (0..span)
        .filter_map(|i| u16::try_from(10_000 + (first + i) % span).ok())
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port below the ephemeral range")
}
