//! A sink read as a byte stream: chunks sent on a bounded channel come out
//! of a [`Read`], so a parser written for files can consume V8's chunk
//! stream while V8 is still producing it.

use std::io::{self, Read};

use crossbeam_channel::{bounded, Receiver, Sender};

use super::Chunk;

/// The reading end. The stream ends (`read` returns 0) once every sender
/// is dropped, whether the producer finished or gave up; the producer tells
/// the two apart by other means.
pub struct ChunkReader {
    rx: Receiver<Chunk>,
    current: Chunk,
    at: usize,
    /// The stream has ended (and malloc's free pages were given back).
    ended: bool,
}

/// A sender and a reader with at most `capacity` chunks in between.
pub fn feed(capacity: usize) -> (Sender<Chunk>, ChunkReader) {
    let (tx, rx) = bounded(capacity.max(1));
    (tx, ChunkReader { rx, current: Chunk::from(Vec::new()), at: 0, ended: false })
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Err(_) => {
                    if !self.ended {
                        // Every sender is gone, so V8 has deleted its
                        // snapshot: malloc holds most of the gigabyte it took
                        // free but resident (glibc trims only the top of
                        // its heap). Give it back before the analysis
                        // allocates, or the analysis' memory adds to V8's
                        // peak (+150 MB on a 100 MB heap, bench/capture.js).
                        self.ended = true;
                        crate::allocator::return_free_memory();
                    }
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_read_back_in_order_then_end() {
        let (tx, mut reader) = feed(2);
        let producer = std::thread::spawn(move || {
            for part in [&b"{\"a\":"[..], b"", b"[1,2", b"]}"] {
                tx.send(Chunk::from(part)).unwrap();
            }
        });
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        producer.join().unwrap();
        assert_eq!(text, "{\"a\":[1,2]}");
    }
}
