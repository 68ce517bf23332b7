//! Identifying a process across time: a pid plus its start time, so that a recorded pid that the
//! kernel has since given to another process is not mistaken for ours.

/// A process as recorded: pid and start time (clock ticks since boot, from /proc/PID/stat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessStamp {
    pub pid: i32,
    pub start_time: u64,
}

impl ProcessStamp {
    pub fn of(pid: i32) -> Option<ProcessStamp> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        Some(ProcessStamp {
            pid,
            start_time: parse_start_time(&stat)?,
        })
    }

    pub fn current() -> ProcessStamp {
        let pid = rustix::process::getpid().as_raw_pid();
        // Reading our own stat cannot fail while /proc is mounted; 0 keeps the pid meaningful.
        ProcessStamp::of(pid).unwrap_or(ProcessStamp { pid, start_time: 0 })
    }

    /// Whether this very process still exists (and is not a zombie).
    pub fn is_alive(&self) -> bool {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) else {
            return false;
        };
        parse_start_time(&stat) == Some(self.start_time) && parse_state(&stat) != Some('Z')
    }
}

/// Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses, so
/// fields are counted from the last ')'.
fn parse_start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn parse_state(stat: &str) -> Option<char> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().next()?.chars().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        let stat = "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 200";
        assert_eq!(parse_start_time(stat), Some(123456));
        assert_eq!(parse_state(stat), Some('S'));
    }

    #[test]
    fn the_current_process_is_alive_and_a_reused_pid_is_not() {
        let me = ProcessStamp::current();
        assert!(me.is_alive());
        let other = ProcessStamp {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(!other.is_alive());
    }
}
