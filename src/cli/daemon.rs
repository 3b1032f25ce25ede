//! `kuaibao serve` and `kuaibao demo`: the daemon, and the demo that runs it
//! over the bundled sample outlets.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use kuaibao::app::{self};
use kuaibao::lock::Job;
use kuaibao::report;

use super::{load_config, runtime};
use crate::DemoArgs;
use crate::exit;

pub(crate) fn demo(config_path: &Path, args: DemoArgs) -> anyhow::Result<u8> {
    // The demo runs on its own sample outlets; from the user's configuration
    // it takes only `server.listen`, and only when that file exists.
    let listen = match args.listen {
        Some(listen) => listen,
        None if config_path.exists() => load_config(config_path)?.server.listen,
        None => std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
    };
    let scratch;
    let out = match args.out {
        Some(out) => out,
        None => {
            scratch = tempfile::Builder::new()
                .prefix("kuaibao-demo-out-")
                .tempdir()?;
            scratch.path().to_path_buf()
        }
    };
    let rt = runtime()?;
    // Bind first: the feeds' URLs must name the address actually served
    // (`--listen 127.0.0.1:0` picks a free port).
    let listener = if args.once {
        None
    } else {
        Some(
            rt.block_on(tokio::net::TcpListener::bind(listen))
                .with_context(|| {
                    format!("cannot listen on {listen} (choose another with --listen)")
                })?,
        )
    };
    let listen = match &listener {
        Some(l) => l.local_addr()?,
        None => listen,
    };
    let run = rt.block_on(app::demo(&out, listen))?;
    print!("{}", report::poll_table(&run.reports));
    for story in &run.grouped {
        println!(
            "\none story, {} outlets, one entry: {} ({})",
            story.outlets.len(),
            story.title,
            story.outlets.join("、")
        );
    }
    if !run.maybe.is_empty() {
        println!("\n待定 (maybe), not published until an editor approves:");
        for item in &run.maybe {
            println!(
                "  {} (relevance {:.2})",
                item.title,
                item.relevance.unwrap_or(0.0)
            );
        }
    }
    if !run.irrelevant.is_empty() {
        println!("\noff-topic, not published:");
        for item in &run.irrelevant {
            println!(
                "  {} (relevance {:.2})",
                item.title,
                item.relevance.unwrap_or(0.0)
            );
        }
    }
    println!(
        "\nwrote {} files to {}",
        run.publish.files.len(),
        out.display()
    );
    for f in &run.publish.feeds {
        println!(
            "  {}{}  ({} entries)",
            run.base_url,
            f.path.strip_prefix(&out).unwrap_or(&f.path).display(),
            f.entries
        );
    }
    let Some(listener) = listener else {
        return Ok(exit::OK);
    };
    // From here on it is the real daemon over the demo's database: the
    // scheduler keeps polling the sample outlets, the feeds and the desk
    // are served as `kuaibao serve` serves them.
    let editor = app::demo_editor(&run.config)?;
    println!(
        "\nthe editors' desk: {}desk/ — user {}, password {} (shown only now)",
        run.base_url, editor.name, editor.password
    );
    println!(
        "serving kuaibao on {} — feeds under /feeds/, status at /status; Ctrl-C to stop",
        run.base_url
    );
    let config = (*run.config).clone();
    rt.block_on(serve_until_signalled(
        &run.config_path,
        config,
        listener,
        kuaibao::serve::Role::All,
    ))?;
    Ok(exit::OK)
}

pub(crate) fn serve(
    config_path: &Path,
    listen: Option<std::net::SocketAddr>,
    role: kuaibao::serve::Role,
) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let listen = listen.unwrap_or(config.server.listen);
    // A polling daemon polls for as long as it runs: a cron poll still at
    // work gets a few minutes to finish first. On PostgreSQL the daemons
    // share the lock (their leases keep them apart); a web node never
    // polls and takes none.
    let _lock = if role.polls() {
        Some(kuaibao::store::lock_job_shared(
            &config.storage,
            Job::Poll,
            Duration::from_secs(300),
        )?)
    } else {
        None
    };
    let rt = runtime()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen} (set server.listen or --listen)"))?;
        let local = listener.local_addr()?;
        eprintln!(
            "kuaibao: serving {} sources on http://{local}/ (feeds under /feeds/, status at /status)",
            config.sources.iter().filter(|s| s.enabled).count()
        );
        serve_until_signalled(config_path, config, listener, role).await?;
        anyhow::Ok(exit::OK)
    })
}

/// Runs the daemon until SIGTERM or SIGINT; SIGHUP reloads the configuration.
pub(crate) async fn serve_until_signalled(
    config_path: &Path,
    config: kuaibao::config::Config,
    listener: tokio::net::TcpListener,
    role: kuaibao::serve::Role,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (reload_tx, reload_rx) = tokio::sync::mpsc::channel(4);
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => {
                    let _ = reload_tx.try_send(());
                }
            }
        }
        tracing::warn!("stopping: finishing in-flight work");
        let _ = stop_tx.send(true);
    });
    let control = kuaibao::serve::ServeControl {
        shutdown: stop_rx,
        reload: reload_rx,
        role,
    };
    kuaibao::serve::run(config_path, config, listener, control).await?;
    Ok(())
}
