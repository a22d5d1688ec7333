//! The `sonolux` binary: parses the command line, sets up logging and hands
//! over to [`sonolux::cli`]. With no arguments it runs the live show.

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    sonolux::live::mark_launch();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new(
                // symphonia logs its own probe failures; sonolux reports them once, clearly.
                // The PulseAudio client's reactor has no clean shutdown: every
                // show that ends logs "Reactor error: Client disconnected" as an
                // ERROR. A server that really goes away mid-show reaches the
                // stream's error callback, which sonolux reports itself.
                "info,wgpu_core=warn,wgpu_hal=warn,naga=warn,symphonia_core=off,\
                 pulseaudio::client::reactor=off",
            )
        }))
        .with_writer(std::io::stderr)
        .init();
    // `sonolux presets list | head`: a closed stdout ends the program quietly,
    // as it does for other command-line tools, instead of a panic message.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
    match sonolux::cli::run(sonolux::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
