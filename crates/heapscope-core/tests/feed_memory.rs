//! A snapshot's stream ends after V8 has deleted the snapshot, whose memory
//! malloc keeps free but resident. The analysis starts right then, so the
//! reader gives those pages back first. Its own test binary: it reads the
//! process's RSS, which other tests running beside it would move.

use std::io::Read;

use heapscope_core::sink::{feed, Chunk};

fn rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap();
    kb / 1024
}

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn the_end_of_a_stream_gives_back_what_malloc_holds_free() {
    // 160 MB in small blocks (malloc's heap, not mappings of their own), the
    // last kept alive so that freeing the others cannot shrink the heap from
    // its top: what V8's many small allocations leave behind.
    let mut blocks: Vec<Vec<u8>> = (0..160_000).map(|i| vec![i as u8; 1000]).collect();
    let last = blocks.pop();
    drop(blocks);
    let before = rss_mb();

    let (tx, mut reader) = feed(2);
    let producer = std::thread::spawn(move || {
        tx.send(Chunk::from(&b"{}"[..])).unwrap();
    });
    let mut text = String::new();
    reader.read_to_string(&mut text).unwrap();
    producer.join().unwrap();
    let after = rss_mb();

    assert_eq!(text, "{}");
    assert!(last.is_some_and(|b| b.len() == 1000));
    assert!(after + 100 < before, "RSS {before} MB before the stream ended, {after} MB after");
}
