//! The Rust side of bench/peers/run_peers.py: cachekit-core and cachekit-rs, as published, on
//! the operations and inputs of the C++ suites (bench/peers/peer_inputs.py lists them, with the
//! C++ source each mirrors; the constants below repeat them).
//!
//! ```text
//! cachekit-peer-bench --payloads DIR --redis-url URL [--min-time S] [--only SUBSTRING]
//! ```
//!
//! Prints one JSON object: `{"peer": ..., "results": [{"name", "ns", "clock", "iterations"}]}`.
//! Each case is timed once (the driver repeats the process and takes medians): the iteration
//! count grows until one batch lasts at least `--min-time`, and that batch is the measurement.
//! `clock` is `cpu` (this thread's CPU time, as Google Benchmark's cpu_time) or `real` (wall
//! time, for the Redis case). The async cases run on a current-thread tokio runtime, one
//! `block_on` per batch, so fred's connection task shares the measured thread.

use std::hint::black_box;
use std::time::Instant;

use cachekit::interop::{interop_key, InteropValue};
use cachekit::{cachekit, CacheKit, CachekitError};
use cachekit_core::{ByteStorage, ZeroKnowledgeEncryptor};
use serde::{Deserialize, Serialize};

/// The versions Cargo.toml pins.
const CORE_VERSION: &str = "0.7.4";
const RS_VERSION: &str = "0.13.1";
const SIZES: [usize; 3] = [1024, 16384, 65536];
const KEY_NS: &str = "pricing";
const KEY_OP: &str = "quote";
const AES_KEY: [u8; 32] = [0x42; 32];
const AES_TENANT: &str = "cross-sdk-test";
const AES_CACHE_KEY: &str =
    "users:get_user:61598716255080080f6456eb065c2e51badfaa4320b0efe97469c29cffee8875";
const MEMO_KEYS: usize = 1024;
const MEMO_STRIDE: usize = 389;
const REGIONS: [&str; 4] = ["eu-west-1", "us-east-1", "ap-south-1", "sa-east-1"];

#[derive(Clone, Copy, PartialEq)]
enum Clock {
    Cpu,
    Real,
}

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// ns per iteration of `body(n)` (which runs n iterations), and n, for one batch >= `min_time`.
fn time_case(mut body: impl FnMut(u64), clock: Clock, min_time: f64) -> (f64, u64) {
    let real = Instant::now();
    let now = move || match clock {
        Clock::Cpu => thread_cpu_ns(),
        Clock::Real => real.elapsed().as_nanos() as u64,
    };
    let goal = min_time * 1e9;
    let mut n: u64 = 1;
    loop {
        let start = now();
        body(n);
        let elapsed = (now() - start) as f64;
        if elapsed >= goal || n >= 1 << 30 {
            return (elapsed / n as f64, n);
        }
        // Aim 40% past the goal, as Google Benchmark does, growing at most 10x per step.
        let next = (n as f64 * goal * 1.4 / elapsed.max(1.0)) as u64;
        n = next.clamp(n + 1, n * 10);
    }
}

fn aes_aad() -> Vec<u8> {
    let mut aad = vec![0x03];
    for part in [
        AES_TENANT.as_bytes(),
        AES_CACHE_KEY.as_bytes(),
        b"msgpack",
        b"False",
    ] {
        aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad
}

fn aes_plaintext(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 131 + 7) as u8).collect()
}

fn read_payload(dir: &str, size: usize) -> Vec<u8> {
    let path = format!("{dir}/realistic_{size}.bin");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(data.len(), size, "{path}");
    data
}

// ---- bench/cache_bench.cpp's memoized function, through #[cachekit] ---------------------------

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Product {
    id: i64,
    name: String,
    price: f64,
}

#[cachekit(client = cache, ttl = 600, interop = "lookup", namespace = "catalog")]
async fn lookup(cache: &CacheKit, id: i64, region: &str) -> Result<Product, CachekitError> {
    Ok(Product {
        id,
        name: format!("item-{region}"),
        price: 1.5 * id as f64,
    })
}

fn memo_arguments() -> Vec<(i64, &'static str)> {
    (0..MEMO_KEYS)
        .map(|i| (100_000 + 7 * i as i64, REGIONS[i % REGIONS.len()]))
        .collect()
}

fn require(ok: bool, what: &str) {
    if !ok {
        eprintln!("cachekit-peer-bench: {what}");
        std::process::exit(1);
    }
}

struct Options {
    payloads: String,
    redis_url: String,
    min_time: f64,
    only: String,
}

fn options() -> Options {
    let mut o = Options {
        payloads: String::new(),
        redis_url: String::new(),
        min_time: 0.2,
        only: String::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| panic!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--payloads" => o.payloads = value(),
            "--redis-url" => o.redis_url = value(),
            "--min-time" => o.min_time = value().parse().expect("--min-time: seconds"),
            "--only" => o.only = value(),
            _ => {
                eprintln!("usage: cachekit-peer-bench --payloads DIR --redis-url URL [--min-time S] [--only SUBSTRING]");
                std::process::exit(2);
            }
        }
    }
    require(
        !o.payloads.is_empty() && !o.redis_url.is_empty(),
        "--payloads and --redis-url are required",
    );
    o
}

fn main() {
    let o = options();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut results: Vec<String> = Vec::new();
    let mut run = |name: &str, clock: Clock, body: &mut dyn FnMut(u64)| {
        if !o.only.is_empty() && !name.contains(&o.only) {
            return;
        }
        let (ns, n) = time_case(body, clock, o.min_time);
        let clock = if clock == Clock::Cpu { "cpu" } else { "real" };
        results.push(format!(
            r#"{{"name": "{name}", "ns": {ns}, "clock": "{clock}", "iterations": {n}}}"#
        ));
    };

    // interop/v1 key of f(42, "eu-west-1", 19.99), the arguments converted per call as the
    // #[cachekit] expansion does.
    run("key_interop", Clock::Cpu, &mut |n| {
        for _ in 0..n {
            let args = [
                InteropValue::from(black_box(42i64)),
                InteropValue::from(black_box("eu-west-1")),
                InteropValue::from(black_box(19.99f64)),
            ];
            black_box(interop_key(KEY_NS, KEY_OP, &args).expect("interop_key"));
        }
    });

    let storage = ByteStorage::new(Some("msgpack".to_owned()));
    let encryptor = ZeroKnowledgeEncryptor::new().expect("encryptor");
    let aad = aes_aad();
    for size in SIZES {
        let data = read_payload(&o.payloads, size);
        run(&format!("envelope_encode/{size}"), Clock::Cpu, &mut |n| {
            for _ in 0..n {
                black_box(storage.store(black_box(&data), None).expect("store"));
            }
        });
        let env = storage.store(&data, None).expect("store");
        require(
            storage.retrieve(&env).expect("retrieve").0 == data,
            "envelope round trip changed the payload",
        );
        run(&format!("envelope_decode/{size}"), Clock::Cpu, &mut |n| {
            for _ in 0..n {
                black_box(storage.retrieve(black_box(&env)).expect("retrieve"));
            }
        });

        let plaintext = aes_plaintext(size);
        run(&format!("aes_seal/{size}"), Clock::Cpu, &mut |n| {
            for _ in 0..n {
                black_box(
                    encryptor
                        .encrypt_aes_gcm(black_box(&plaintext), &AES_KEY, &aad)
                        .expect("encrypt"),
                );
            }
        });
        let sealed = encryptor
            .encrypt_aes_gcm(&plaintext, &AES_KEY, &aad)
            .expect("encrypt");
        run(&format!("aes_open/{size}"), Clock::Cpu, &mut |n| {
            for _ in 0..n {
                black_box(
                    encryptor
                        .decrypt_aes_gcm(black_box(&sealed), &AES_KEY, &aad)
                        .expect("decrypt"),
                );
            }
        });
    }

    // L1 hit: cachekit-rs's `minimal` preset (Redis, L1 on, reliability off), every key stored
    // and read back once before the timing; the second pass must be all L1 hits.
    if o.only.is_empty() || "memo_l1_hit_interop".contains(&o.only) {
        let args = memo_arguments();
        let cache = rt.block_on(async {
            let cache = CacheKit::minimal(&o.redis_url)
                .await
                .expect("connect")
                .l1_capacity(4 * MEMO_KEYS)
                .build()
                .expect("build");
            for (id, region) in &args {
                lookup(&cache, *id, region).await.expect("lookup");
            }
            let before = cache.stats();
            for (id, region) in &args {
                let p = lookup(&cache, *id, region).await.expect("lookup");
                require(p.id == *id, "L1 hit returned a wrong value");
            }
            let after = cache.stats();
            require(
                after.l1_hits - before.l1_hits == MEMO_KEYS as u64 && after.misses == before.misses,
                "not every read of the second pass was an L1 hit",
            );
            cache
        });
        run("memo_l1_hit_interop", Clock::Cpu, &mut |n| {
            rt.block_on(async {
                let mut i = 0usize;
                for _ in 0..n {
                    i += MEMO_STRIDE;
                    let (id, region) = args[i & (MEMO_KEYS - 1)];
                    black_box(lookup(&cache, id, region).await.expect("lookup"));
                }
            })
        });
    }

    // L2 hit: the same preset with L1 off; one key, as the C++ case.
    if o.only.is_empty() || "memo_l2_hit_redis_interop".contains(&o.only) {
        let cache = rt.block_on(async {
            let cache = CacheKit::minimal(&o.redis_url)
                .await
                .expect("connect")
                .no_l1()
                .build()
                .expect("build");
            lookup(&cache, 42, "eu-west-1").await.expect("lookup");
            let before = cache.stats();
            lookup(&cache, 42, "eu-west-1").await.expect("lookup");
            require(
                cache.stats().l2_hits == before.l2_hits + 1,
                "the second call was not an L2 hit",
            );
            cache
        });
        run("memo_l2_hit_redis_interop", Clock::Real, &mut |n| {
            rt.block_on(async {
                for _ in 0..n {
                    black_box(lookup(&cache, 42, "eu-west-1").await.expect("lookup"));
                }
            })
        });
    }

    println!(
        r#"{{"peer": "cachekit-core {} / cachekit-rs {}", "results": [{}]}}"#,
        CORE_VERSION,
        RS_VERSION,
        results.join(", ")
    );
}
