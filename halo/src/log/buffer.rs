//! The per-invocation buffer of debug lines held back from unsampled
//! invocations: written out only if the invocation fails.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Default buffer size per invocation.
pub(crate) const DEFAULT_DEBUG_BUFFER_BYTES: usize = 20 * 1024;

static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_DEBUG_BUFFER_BYTES);

/// Sets the size of each invocation's debug buffer (from
/// `HALO_DEBUG_BUFFER_BYTES` at start, default 20 KiB). 0 turns buffering off.
pub(crate) fn set_debug_buffer_bytes(bytes: usize) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// The size of each invocation's debug buffer.
pub(crate) fn debug_buffer_bytes() -> usize {
    LIMIT.load(Ordering::Relaxed)
}

/// Rendered debug lines of one invocation, oldest first, bounded in bytes:
/// when full, the oldest lines are dropped (and counted).
#[derive(Debug, Default)]
pub(crate) struct DebugBuffer {
    lines: VecDeque<Vec<u8>>,
    bytes: usize,
    dropped: usize,
}

impl DebugBuffer {
    /// Keeps `line`, dropping the oldest lines to stay within the limit. A
    /// line larger than the whole buffer is dropped itself.
    pub(crate) fn push(&mut self, line: &[u8]) {
        let limit = debug_buffer_bytes();
        if line.len() > limit {
            self.dropped += 1;
            return;
        }
        while self.bytes + line.len() > limit {
            match self.lines.pop_front() {
                Some(old) => {
                    self.bytes -= old.len();
                    self.dropped += 1;
                }
                None => break,
            }
        }
        self.bytes += line.len();
        self.lines.push_back(line.to_vec());
    }

    /// Takes the lines out, with the number of lines that were dropped.
    pub(crate) fn take(&mut self) -> (VecDeque<Vec<u8>>, usize) {
        self.bytes = 0;
        (std::mem::take(&mut self.lines), std::mem::take(&mut self.dropped))
    }

    /// Lines held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether no line is held.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_oldest_lines_when_full() {
        let mut buffer = DebugBuffer::default();
        let line = vec![b'x'; 1024];
        for _ in 0..25 {
            buffer.push(&line);
        }
        assert_eq!(buffer.len(), 20);
        let (lines, dropped) = buffer.take();
        assert_eq!((lines.len(), dropped), (20, 5));
        assert!(buffer.is_empty());
        buffer.push(&vec![b'y'; DEFAULT_DEBUG_BUFFER_BYTES + 1]);
        assert_eq!(buffer.take().1, 1, "a line larger than the buffer is dropped");
    }
}
