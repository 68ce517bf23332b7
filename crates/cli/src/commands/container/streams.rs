//! `run`'s `-a`/`--attach` and `--sig-proxy`: which streams a foreground run connects, and
//! whether kist passes on the signals it gets.

use anyhow::Result;
use clap::Args;
use kist_engine::attach::Attach;

// `run` flattens this after its own flags.
#[derive(Args)]
pub struct StreamArgs {
    /// Attach to STDIN, STDOUT or STDERR (repeatable) [default: STDOUT and STDERR, and STDIN with -i]
    #[arg(short = 'a', long = "attach", value_name = "STREAM")]
    attach: Vec<String>,
    /// Pass the signals kist gets on to the container (--sig-proxy=false: kist keeps them)
    #[arg(long = "sig-proxy", default_value_t = true)]
    sig_proxy: bool,
}

impl StreamArgs {
    /// The attached streams, and whether signals stay with kist.
    pub fn streams(&self, interactive: bool, detach: bool) -> Result<(Attach, bool)> {
        let attach = Attach::parse(&self.attach, interactive, detach)?;
        Ok((attach, !self.sig_proxy))
    }
}
