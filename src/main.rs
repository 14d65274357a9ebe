use std::process::ExitCode;

use clap::Parser;
use color_eyre::eyre::{Result, WrapErr};

use patrol::cli::{Cli, Command};
use patrol::config::{self, ConfigSource};
use patrol::theme::Theme;

/// `println!` / `eprintln!` panic when the write fails (a terminal that hung up, a closed
/// pipe); a panic then may abort before anything is cleaned up. These ignore the error:
/// there is nobody left to tell.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
macro_rules! errln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

fn main() -> ExitCode {
    // A reader that stops early (`patrol man | head -1`) ends the commands that print as it
    // ends `cat`: quietly, by SIGPIPE. Rust ignores SIGPIPE, so every print would get an
    // error (or, inside a library's `println!`, a panic). The console puts it back below.
    set_sigpipe(libc::SIG_DFL);
    match run() {
        Ok(code) => code,
        Err(e) => {
            errln!("patrol: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn set_sigpipe(how: libc::sighandler_t) {
    // SAFETY: at start-up, before any thread exists; SIG_DFL and SIG_IGN are not handlers.
    unsafe {
        libc::signal(libc::SIGPIPE, how);
    }
}

/// color-eyre's reports, with a panic hook that never panics itself: it gives the terminal
/// back and kills the log followers' process groups first (a panic may end in an abort that
/// runs no destructor), then prints the report, ignoring a stderr that is gone.
fn install_hooks() -> Result<()> {
    let (panic_hook, eyre_hook) = color_eyre::config::HookBuilder::default().into_hooks();
    eyre_hook.install()?;
    std::panic::set_hook(Box::new(move |info| {
        let _ = patrol::runtime::restore_terminal();
        patrol::logs::kill_all_commands();
        errln!("{}", panic_hook.panic_report(info));
    }));
    Ok(())
}

/// patrol's own diagnostics go through `tracing`: into the in-app log view (o) while the
/// console runs, and to `--log-file` when given; never to stdout/stderr under the TUI.
fn init_logging(cli: &Cli, tui: bool) -> Result<()> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("PATROL_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("patrol=info"))
    };
    let file = match &cli.log_file {
        Some(path) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .wrap_err_with(|| format!("cannot open log file {}", path.display()))?;
            Some(
                tracing_subscriber::fmt::layer()
                    // a file someone will `cat`: every event passes the sanitizer
                    .with_writer(std::sync::Mutex::new(patrol::text::CleanWriter(f)))
                    .with_ansi(false)
                    .with_filter(filter()),
            )
        }
        None => None,
    };
    let tui_layer = if tui {
        // Not `init_logger`: its thread wakes every 10 ms for ever; the TUI moves the
        // events itself before each frame.
        Some(patrol::runtime::ownlog::layer().with_filter(filter()))
    } else {
        None
    };
    tracing_subscriber::registry()
        .with(file)
        .with(tui_layer)
        .init();
    Ok(())
}

/// How patrol exits: a Nagios plugin's codes for `check`, 2 for a usage error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl From<patrol::check::Status> for Exit {
    fn from(s: patrol::check::Status) -> Exit {
        match s {
            patrol::check::Status::Ok => Exit::Ok,
            patrol::check::Status::Warning => Exit::Warning,
            patrol::check::Status::Critical => Exit::Critical,
            patrol::check::Status::Unknown => Exit::Unknown,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        match e {
            Exit::Ok => ExitCode::SUCCESS,
            Exit::Warning => ExitCode::from(1),
            Exit::Critical => ExitCode::from(2),
            Exit::Unknown => ExitCode::from(3),
        }
    }
}

fn run() -> Result<ExitCode> {
    // Before anything touches the terminal, so a panic report comes after the restore.
    install_hooks()?;
    let cli = Cli::parse();
    if cli.command.is_none() {
        // the console writes to a terminal, and a hang-up must be an orderly exit, not a signal
        set_sigpipe(libc::SIG_IGN);
    }
    init_logging(&cli, cli.command.is_none())?;
    patrol::install_crypto_provider();

    // the commands that need no cluster
    match &cli.command {
        Some(Command::Themes) => {
            for (name, what) in Theme::list() {
                outln!("{name:<16} {what}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "patrol",
                &mut std::io::stdout(),
            );
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Man) => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .wrap_err("cannot write the man page")?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Config {
            action: patrol::cli::ConfigAction::Init { force },
        }) => {
            let Some(path) = cli
                .patrol_config
                .clone()
                .or_else(patrol::config::patrol::default_path)
            else {
                errln!("patrol: no config directory: pass --patrol-config FILE");
                return Ok(ExitCode::from(2));
            };
            let audit = cli
                .audit_log
                .clone()
                .unwrap_or_else(patrol::runtime::default_audit_log);
            return match patrol::config::init::write(&path, &audit, *force) {
                Ok(()) => {
                    outln!("wrote {}", path.display());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    errln!("patrol: {e}");
                    Ok(ExitCode::from(1))
                }
            };
        }
        _ => {}
    }
    // `patrol version` with no cluster needs no configuration, like patronictl's
    if let Some(Command::Version {
        cluster_name: None, ..
    }) = &cli.command
        && cli.cluster.is_none()
    {
        {
            use std::io::Write as _;
            let _ = write!(
                std::io::stdout(),
                "{}",
                patrol::readcmds::version(None, &[])
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let scope = match &cli.command {
        Some(Command::List { cluster_name, .. } | Command::Check { cluster_name, .. }) => {
            cluster_name.clone().or(cli.cluster.clone())
        }
        Some(c) => patrol::readcmds::cluster_arg(c).or(cli.cluster.clone()),
        None => cli.cluster.clone(),
    };
    let check_format = match &cli.command {
        Some(Command::Check { format, .. }) => Some(*format),
        _ => None,
    };
    let settings = match config::load(&ConfigSource {
        file: cli.config_file.clone(),
        dcs_url: cli.dcs_url.clone(),
        insecure: cli.insecure,
        scope,
        rest_only: cli.rest_only,
        api: cli.api.clone(),
    }) {
        Ok(s) => s,
        // a plugin that cannot look says UNKNOWN, on stdout where monitoring reads it
        Err(e) if check_format.is_some() => {
            let f = check_format.unwrap_or(patrol::check::CheckFormat::Nagios);
            outln!("{}", patrol::check::unknown(&e.to_string(), f));
            return Ok(Exit::Unknown.into());
        }
        Err(e) => {
            errln!("patrol: {e}");
            return Ok(ExitCode::from(2));
        }
    };

    // as ssh does: said, and on we go (the console shows them under its header)
    if cli.command.is_some() {
        for (key, msg) in &settings.warnings {
            errln!("patrol: warning: {key}: {msg}");
        }
    }
    match cli.command {
        // answered above, before any configuration was read
        Some(
            Command::Themes | Command::Completions { .. } | Command::Man | Command::Config { .. },
        ) => Ok(ExitCode::SUCCESS),
        // the patronictl read commands (below), and `list -t/-W/-w`
        Some(ref c) if patrol::readcmds::handles(c) => patrol::readcmds::run(
            c,
            &settings,
            cli.interval
                .unwrap_or(patrol::config::init::DEFAULT_INTERVAL),
            cli.timeout.unwrap_or(patrol::config::init::DEFAULT_TIMEOUT),
        ),
        Some(
            Command::Topology { .. }
            | Command::History { .. }
            | Command::ShowConfig { .. }
            | Command::Dsn { .. }
            | Command::Version { .. },
        ) => Ok(ExitCode::from(2)), // readcmds::handles takes each of these above
        Some(Command::Check { format, .. }) => {
            let own = match patrol::config::patrol::load(cli.patrol_config.as_deref()) {
                Ok(c) => c,
                Err(e) => {
                    outln!("{}", patrol::check::unknown(&e, format));
                    return Ok(Exit::Unknown.into());
                }
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let timeout = cli.timeout.unwrap_or(patrol::config::init::DEFAULT_TIMEOUT);
            // the command line's HAProxies, then the config's
            let mut haproxy = Vec::new();
            for h in &cli.haproxy {
                match patrol::haproxy::HaproxySpec::parse(h) {
                    Ok(s) => haproxy.push(s),
                    Err(e) => {
                        outln!(
                            "{}",
                            patrol::check::unknown(&format!("--haproxy: {e}"), format)
                        );
                        return Ok(Exit::Unknown.into());
                    }
                }
            }
            haproxy.extend(own.haproxy.iter().cloned());
            let collected = rt.block_on(async {
                let mut app = patrol::runtime::oneshot::collect(&settings, timeout).await?;
                patrol::runtime::oneshot::read_haproxy(&mut app, haproxy, timeout).await?;
                Ok::<_, String>(app)
            });
            match collected {
                Ok(mut app) => {
                    // the wall clock, for `dcs_last_seen`'s age
                    let since = app.model.now.saturating_duration_since(app.model.started());
                    app.model.wall0 = std::time::SystemTime::now().checked_sub(since);
                    let (status, text) = patrol::check::report(&app.model, &own.check, format);
                    outln!("{text}");
                    Ok(Exit::from(status).into())
                }
                Err(e) => {
                    outln!("{}", patrol::check::unknown(&e, format));
                    Ok(Exit::Unknown.into())
                }
            }
        }
        Some(Command::List {
            format, extended, ..
        }) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let timeout = cli.timeout.unwrap_or(patrol::config::init::DEFAULT_TIMEOUT);
            match rt.block_on(patrol::runtime::oneshot::collect(&settings, timeout)) {
                Ok(app) => {
                    outln!("{}", patrol::output::render(&app, format, extended));
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    errln!("patrol: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        None => {
            let depth = patrol::theme::Depth::from_env();
            // patrol's own file first; the command line wins over it
            let own = match patrol::config::patrol::load(cli.patrol_config.as_deref()) {
                Ok(c) => c,
                Err(e) => {
                    errln!("patrol: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let logs = match cli.logs.as_deref().map(patrol::logs::LogSourceSpec::parse) {
                None => own.logs.clone(),
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => {
                    errln!("patrol: --logs: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            // the command line's HAProxies, then the config's
            let mut haproxy = Vec::new();
            for h in &cli.haproxy {
                match patrol::haproxy::HaproxySpec::parse(h) {
                    Ok(s) => haproxy.push(s),
                    Err(e) => {
                        errln!("patrol: --haproxy: {e}");
                        return Ok(ExitCode::from(2));
                    }
                }
            }
            haproxy.extend(own.haproxy.iter().cloned());
            let keys = match patrol::app::KeymapSet::with_overrides(&own.keys) {
                Ok(k) => k,
                Err(e) => {
                    errln!("patrol: [keys] in patrol's config: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let theme = Theme::resolve(cli.theme.as_deref().or(own.theme.as_deref()), depth)
                .map_err(color_eyre::eyre::Report::msg)?;
            let kept = patrol::runtime::run_tui(
                settings,
                patrol::runtime::Options {
                    interval: cli
                        .interval
                        .or(own.interval)
                        .unwrap_or(patrol::config::init::DEFAULT_INTERVAL),
                    timeout: cli
                        .timeout
                        .or(own.timeout)
                        .unwrap_or(patrol::config::init::DEFAULT_TIMEOUT),
                    theme,
                    read_only: cli.read_only || own.read_only.unwrap_or(false),
                    audit_log: cli
                        .audit_log
                        .clone()
                        .or(own.audit_log.clone())
                        .unwrap_or_else(patrol::runtime::default_audit_log),
                    logs,
                    logs_by_member: own.logs_by_member.clone(),
                    keys,
                    thresholds: own.check.clone(),
                    bell: cli.bell,
                    haproxy,
                    sync_output: cli
                        .sync_output
                        .or(own.sync_output)
                        .unwrap_or_default()
                        .resolve(std::env::var_os("TMUX").is_some_and(|v| !v.is_empty())),
                },
            )?;
            // the terminal went away under the console: said in --log-file, and here
            Ok(if kept {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
