//! The workload on turmoil: each host is a tokio task on a UDP socket; turmoil moves its clock
//! a fixed tick (1 ms) at a time and polls every host each tick.

use crate::workload::{self, Measured, Wire, BACKUPS, HALF_CYCLE, HEARTBEAT, PORT, WIRE_LEN};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use turmoil::net::UdpSocket;

fn addr(host: &str) -> SocketAddr {
    SocketAddr::new(turmoil::lookup(host), PORT)
}

fn backup(i: usize) -> String {
    format!("backup{i}")
}

async fn bind() -> std::io::Result<UdpSocket> {
    UdpSocket::bind((IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT)).await
}

async fn send(socket: &UdpSocket, to: SocketAddr, message: Wire) -> turmoil::Result {
    socket.send_to(&message.encode(), to).await?;
    Ok(())
}

async fn primary() -> turmoil::Result {
    let socket = bind().await?;
    let backups: Vec<SocketAddr> = (1..=BACKUPS).map(|i| addr(&backup(i))).collect();
    let (mut version, mut value) = (0, 0);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut buf = [0; WIRE_LEN];
    loop {
        // Biased: an unbiased select draws from tokio's thread-local randomness, which turmoil's
        // seed does not control.
        tokio::select! {
            biased;
            _ = heartbeat.tick() => {
                for &b in &backups {
                    send(&socket, b, Wire::Heartbeat { version, value }).await?;
                }
            }
            got = socket.recv_from(&mut buf) => {
                let (_, from) = got?;
                workload::received();
                match Wire::decode(&buf) {
                    Wire::Ack { .. } => {}
                    Wire::Write { value: v } => {
                        version += 1;
                        value = v;
                        send(&socket, from, Wire::Written).await?;
                    }
                    Wire::Read => send(&socket, from, Wire::Value { value }).await?,
                    other => panic!("primary got {other:?}"),
                }
            }
        }
    }
}

async fn backup_host() -> turmoil::Result {
    let socket = bind().await?;
    let (mut version, mut value) = (0, 0);
    let mut buf = [0; WIRE_LEN];
    loop {
        let (_, from) = socket.recv_from(&mut buf).await?;
        workload::received();
        match Wire::decode(&buf) {
            Wire::Heartbeat {
                version: v,
                value: x,
            } => {
                if v > version {
                    (version, value) = (v, x);
                }
                send(&socket, from, Wire::Ack { version: v }).await?;
            }
            Wire::Read => send(&socket, from, Wire::Value { value }).await?,
            other => panic!("backup got {other:?}"),
        }
    }
}

async fn client(sim: Duration) -> turmoil::Result {
    let socket = bind().await?;
    let primary = addr("primary");
    let backups: Vec<SocketAddr> = (1..=BACKUPS).map(|i| addr(&backup(i))).collect();
    let start = tokio::time::Instant::now();
    let mut buf = [0; WIRE_LEN];
    let mut i = 0u64;
    while start.elapsed() + 2 * HALF_CYCLE <= sim {
        let cycle = start + 2 * HALF_CYCLE * i as u32;
        send(
            &socket,
            primary,
            Wire::Write {
                value: workload::value(i),
            },
        )
        .await?;
        socket.recv_from(&mut buf).await?;
        workload::received();
        tokio::time::sleep_until(cycle + HALF_CYCLE).await;
        send(&socket, backups[i as usize % BACKUPS], Wire::Read).await?;
        socket.recv_from(&mut buf).await?;
        workload::received();
        tokio::time::sleep_until(cycle + 2 * HALF_CYCLE).await;
        i += 1;
    }
    Ok(())
}

/// One run of `sim_secs` simulated seconds.
pub fn run(sim_secs: u64) -> Measured {
    let sim = Duration::from_secs(sim_secs);
    let mut world = turmoil::Builder::new()
        // Room beyond the client's own time: turmoil fails a run that reaches it.
        .simulation_duration(sim + Duration::from_secs(10))
        .tick_duration(Duration::from_millis(1))
        .min_message_latency(workload::MIN_LATENCY)
        .max_message_latency(workload::MAX_LATENCY)
        // Seeded, as the others are, so every run sends the same messages.
        .build_with_rng(Box::new(SmallRng::seed_from_u64(1)));
    world.host("primary", primary);
    for i in 1..=BACKUPS {
        world.host(backup(i), backup_host);
    }
    world.client("client", client(sim));
    workload::take_received();
    let started = Instant::now();
    world.run().expect("the turmoil run");
    Measured {
        wall_secs: started.elapsed().as_secs_f64(),
        sim_secs: world.elapsed().as_secs_f64(),
        messages: workload::take_received(),
        steps: None,
    }
}
