//! Who acts on the session's mail, for `status`: the `choixbot run` (or
//! `invite`, `close`) holding the lease, and the standbys seen waiting.

use serde::Serialize;

use crate::answer::french::ms_in_words;
use crate::store::Store;

/// The lease and the standbys.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LeaseStatus {
    /// The process holding the lease, while it is live.
    pub holder: Option<Process>,
    /// The other `choixbot run` seen within `lease::SEEN_WITHIN`, waiting.
    pub standbys: Vec<Process>,
}

/// One process.
#[derive(Debug, Clone, Serialize)]
pub struct Process {
    /// Its machine.
    pub host: String,
    /// Its process id.
    pub pid: i64,
    /// For the holder: since when it holds the lease, in words; for a
    /// standby: since when it runs.
    pub since: String,
    /// For the holder: the lease's epoch (one more at each taking).
    pub epoch: Option<i64>,
}

impl LeaseStatus {
    pub async fn read(store: &Store, tz: chrono_tz::Tz) -> anyhow::Result<Self> {
        let words = |ms: i64| ms_in_words(ms, tz);
        let lease = store.lease().await?.filter(|lease| lease.live);
        let standbys = store
            .daemons_seen(crate::lease::SEEN_WITHIN)
            .await?
            .into_iter()
            .filter(|daemon| lease.as_ref().map_or(true, |lease| lease.holder != daemon.id))
            .map(|daemon| Process {
                host: daemon.host,
                pid: daemon.pid,
                since: words(daemon.started_ms),
                epoch: None,
            })
            .collect();
        let holder = lease.map(|lease| Process {
            host: lease.host,
            pid: lease.pid,
            since: words(lease.since_ms),
            epoch: Some(lease.epoch),
        });
        Ok(Self { holder, standbys })
    }

    pub fn to_text(&self) -> String {
        let mut text = match &self.holder {
            Some(holder) => format!(
                "Acting on the mail: choixbot on {} (pid {}), since {}.\n",
                holder.host, holder.pid, holder.since
            ),
            None => "No choixbot run is acting on the mail now (start one with: choixbot run).\n".to_string(),
        };
        for standby in &self.standbys {
            text.push_str(&format!(
                "Standing by: choixbot run on {} (pid {}), started {}; it takes over within seconds if the first stops.\n",
                standby.host, standby.pid, standby.since
            ));
        }
        text
    }
}
