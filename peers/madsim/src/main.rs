//! The simulator benchmark of issue 10 on madsim: the workload of `peers/sim` (its
//! `workload.rs`, shared by path), hosts as madsim nodes on simulated UDP. madsim jumps its
//! clock to the next timer or message. A measurement, not a test: see `peers/sim/README.md`.
//!
//! madsim simulates only in a build with `--cfg madsim`, so this is a crate of its own:
//! `RUSTFLAGS="--cfg madsim" cargo run --release -- [simulated seconds]` (default 600).

#[cfg(not(madsim))]
fn main() {
    eprintln!("build with RUSTFLAGS=\"--cfg madsim\": without it madsim runs on real time");
    std::process::exit(2);
}

#[cfg(madsim)]
#[path = "../../sim/src/workload.rs"]
mod workload;

#[cfg(madsim)]
fn main() {
    let sim_secs = workload::sim_secs_arg();
    println!(
        "the same six hosts on madsim, {sim_secs} s simulated, median of {} runs:",
        workload::RUNS
    );
    workload::measure("madsim", "(jumps to the next event)", || sim::run(sim_secs));
}

#[cfg(madsim)]
mod sim {
    use crate::workload::{self, Wire, BACKUPS, HALF_CYCLE, HEARTBEAT, PORT, WIRE_LEN};
    use madsim::net::UdpSocket;
    use madsim::runtime::{Handle, Runtime};
    use madsim::time::{sleep_until, Instant};
    use std::cell::Cell;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    use std::rc::Rc;
    use std::time::Duration;

    fn ip(host: usize) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1 + host as u8))
    }

    fn addr(host: usize) -> SocketAddr {
        SocketAddr::new(ip(host), PORT)
    }

    async fn bind() -> Rc<UdpSocket> {
        Rc::new(UdpSocket::bind(("0.0.0.0", PORT)).await.expect("bind"))
    }

    async fn send(socket: &UdpSocket, to: SocketAddr, message: Wire) {
        socket.send_to(to, &message.encode()).await.expect("send");
    }

    async fn primary() {
        let socket = bind().await;
        let state = Rc::new(Cell::new((0u64, 0i64)));
        // The heartbeats as a task of their own beside the receiving loop (no `select!`,
        // whose unbiased form draws from a randomness madsim's seed does not control).
        let heartbeats = {
            let (socket, state) = (socket.clone(), state.clone());
            async move {
                let mut tick = madsim::time::interval(HEARTBEAT);
                loop {
                    tick.tick().await;
                    let (version, value) = state.get();
                    for b in 1..=BACKUPS {
                        send(&socket, addr(b), Wire::Heartbeat { version, value }).await;
                    }
                }
            }
        };
        madsim::task::spawn_local(heartbeats);
        let mut buf = [0; WIRE_LEN];
        loop {
            let (_, from) = socket.recv_from(&mut buf).await.expect("recv");
            workload::received();
            match Wire::decode(&buf) {
                Wire::Ack { .. } => {}
                Wire::Write { value } => {
                    let (version, _) = state.get();
                    state.set((version + 1, value));
                    send(&socket, from, Wire::Written).await;
                }
                Wire::Read => {
                    let value = state.get().1;
                    send(&socket, from, Wire::Value { value }).await;
                }
                other => panic!("primary got {other:?}"),
            }
        }
    }

    async fn backup() {
        let socket = bind().await;
        let (mut version, mut value) = (0, 0);
        let mut buf = [0; WIRE_LEN];
        loop {
            let (_, from) = socket.recv_from(&mut buf).await.expect("recv");
            workload::received();
            match Wire::decode(&buf) {
                Wire::Heartbeat {
                    version: v,
                    value: x,
                } => {
                    if v > version {
                        (version, value) = (v, x);
                    }
                    send(&socket, from, Wire::Ack { version: v }).await;
                }
                Wire::Read => send(&socket, from, Wire::Value { value }).await,
                other => panic!("backup got {other:?}"),
            }
        }
    }

    async fn client(sim: Duration) {
        // Spawned as a task, which must be `Send`: the socket is owned here, not shared.
        let socket = UdpSocket::bind(("0.0.0.0", PORT)).await.expect("bind");
        let start = Instant::now();
        let mut buf = [0; WIRE_LEN];
        let mut i = 0u64;
        while start.elapsed() + 2 * HALF_CYCLE <= sim {
            let cycle = start + 2 * HALF_CYCLE * i as u32;
            let write = Wire::Write {
                value: workload::value(i),
            };
            send(&socket, addr(0), write).await;
            socket.recv_from(&mut buf).await.expect("recv");
            workload::received();
            sleep_until(cycle + HALF_CYCLE).await;
            send(&socket, addr(1 + i as usize % BACKUPS), Wire::Read).await;
            socket.recv_from(&mut buf).await.expect("recv");
            workload::received();
            sleep_until(cycle + 2 * HALF_CYCLE).await;
            i += 1;
        }
    }

    pub fn run(sim_secs: u64) -> workload::Measured {
        let sim = Duration::from_secs(sim_secs);
        let mut config = madsim::Config::default();
        config.net.send_latency = workload::MIN_LATENCY..workload::MAX_LATENCY;
        let runtime = Runtime::with_seed_and_config(1, config);
        workload::take_received();
        // Wall time is read outside the runtime: inside it, the clock is the simulated one.
        let started = std::time::Instant::now();
        let simulated = runtime.block_on(async move {
            let handle = Handle::current();
            handle
                .create_node()
                .name("primary")
                .ip(ip(0))
                .init(primary)
                .build();
            for b in 1..=BACKUPS {
                let name = format!("backup{b}");
                handle
                    .create_node()
                    .name(name)
                    .ip(ip(b))
                    .init(backup)
                    .build();
            }
            let client_node = handle
                .create_node()
                .name("client")
                .ip(ip(1 + BACKUPS))
                .build();
            let start = Instant::now();
            client_node.spawn(client(sim)).await.expect("the client");
            start.elapsed()
        });
        workload::Measured {
            wall_secs: started.elapsed().as_secs_f64(),
            sim_secs: simulated.as_secs_f64(),
            messages: workload::take_received(),
            steps: None,
        }
    }
}
