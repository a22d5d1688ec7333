//! Which monitor gets the projector and which the control window.

/// What the show needs to know about a monitor.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorInfo {
    /// Name as the system reports it.
    pub name: String,
    /// Top-left corner in the desktop (px).
    pub position: [i32; 2],
    /// Size (px).
    pub size: [u32; 2],
}

/// Where the windows go: indices into the monitor list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The projector's monitor.
    pub projector: usize,
    /// The control window's monitor.
    pub control: usize,
    /// Two or more monitors: projector and control on their own screens.
    pub separate: bool,
}

/// Chooses monitors: `--monitor N` when it exists (else a warning and the
/// default); by default the projector goes to the second monitor (the first
/// is the laptop's own screen), the control window to the first one that
/// is not the projector's.
pub fn choose(monitors: &[MonitorInfo], wanted: Option<usize>) -> (Placement, Option<String>) {
    let n = monitors.len();
    let mut warning = None;
    let projector = match wanted {
        Some(i) if i < n => i,
        Some(i) => {
            warning = Some(format!(
                "--monitor {i}: there {} only {n} monitor{} (0..{}); using {}",
                if n == 1 { "is" } else { "are" },
                if n == 1 { "" } else { "s" },
                n.saturating_sub(1),
                usize::from(n >= 2)
            ));
            usize::from(n >= 2)
        }
        None => usize::from(n >= 2),
    };
    let control = (0..n).find(|&i| i != projector).unwrap_or(projector);
    (
        Placement {
            projector,
            control,
            separate: n >= 2,
        },
        warning,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitors(n: usize) -> Vec<MonitorInfo> {
        (0..n)
            .map(|i| MonitorInfo {
                name: format!("M{i}"),
                position: [i as i32 * 1920, 0],
                size: [1920, 1080],
            })
            .collect()
    }

    #[test]
    fn one_monitor_shares_it() {
        let (p, w) = choose(&monitors(1), None);
        assert_eq!(
            p,
            Placement {
                projector: 0,
                control: 0,
                separate: false
            }
        );
        assert!(w.is_none());
    }

    #[test]
    fn two_monitors_put_the_projector_on_the_second() {
        let (p, _) = choose(&monitors(2), None);
        assert_eq!(
            p,
            Placement {
                projector: 1,
                control: 0,
                separate: true
            }
        );
        let (p, _) = choose(&monitors(3), Some(0));
        assert_eq!(
            p,
            Placement {
                projector: 0,
                control: 1,
                separate: true
            }
        );
        let (p, _) = choose(&monitors(3), Some(2));
        assert_eq!((p.projector, p.control), (2, 0));
    }

    #[test]
    fn a_missing_monitor_is_a_warning_not_a_failure() {
        let (p, w) = choose(&monitors(2), Some(5));
        assert_eq!(p.projector, 1);
        assert!(w.expect("warning").contains("only 2 monitors"));
        let (p, _) = choose(&[], Some(1));
        assert_eq!((p.projector, p.control), (0, 0));
    }
}
