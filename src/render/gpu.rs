//! The wgpu device: any backend, chosen by the usual environment variables
//! (`WGPU_BACKEND`, `WGPU_ADAPTER_NAME`, `WGPU_POWER_PREF`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why no GPU could be used.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No adapter matched.
    #[error(
        "no GPU adapter found ({0}); on Linux without a GPU install Mesa's lavapipe: apt-get install mesa-vulkan-drivers"
    )]
    NoAdapter(String),
    /// The adapter refused a device.
    #[error("the GPU adapter refused to create a device: {0}")]
    NoDevice(String),
}

/// Instance, adapter, device and queue, shared by every pass. Cloning
/// shares the same device (wgpu handles are reference counted).
#[derive(Clone)]
pub struct Gpu {
    /// The wgpu instance.
    pub instance: wgpu::Instance,
    /// The chosen adapter.
    pub adapter: wgpu::Adapter,
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// Count of uncaptured GPU errors (logged once each kind, never fatal).
    pub errors: Arc<AtomicU64>,
    /// Set when the device is lost (driver reset, GPU removed): the live
    /// show then rebuilds its renderer on a new device.
    pub lost: Arc<std::sync::atomic::AtomicBool>,
}

impl Gpu {
    /// A device with no surface (headless rendering, tests, benchmarks).
    pub fn headless() -> Result<Self, GpuError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        Self::with_instance(instance, None)
    }

    /// A device able to present to `surface` (created from `instance`).
    pub fn with_instance(
        instance: wgpu::Instance,
        surface: Option<&wgpu::Surface<'_>>,
    ) -> Result<Self, GpuError> {
        let adapter = pollster::block_on(wgpu::util::initialize_adapter_from_env_or_default(
            &instance, surface,
        ))
        .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        tracing::info!(
            "GPU adapter: {} ({:?}, {:?})",
            info.name,
            info.backend,
            info.device_type
        );
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("sonolux"),
            required_features: wgpu::Features::empty(),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|e| GpuError::NoDevice(e.to_string()))?;
        let errors = Arc::new(AtomicU64::new(0));
        let counter = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            // Log the first few, then only count: the show goes on.
            if counter.fetch_add(1, Ordering::Relaxed) < 8 {
                tracing::error!("GPU error: {e}");
            }
        }));
        let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            tracing::error!("GPU device lost ({reason:?}): {message}");
            flag.store(true, Ordering::Relaxed);
        });
        Ok(Self {
            instance,
            adapter,
            device,
            queue,
            errors,
            lost,
        })
    }

    /// A one-line description of the adapter, for logs and benchmark tables.
    pub fn describe(&self) -> String {
        let i = self.adapter.get_info();
        format!("{} ({:?}, {})", i.name, i.backend, i.driver_info)
    }

    /// A command encoder labelled `label`.
    pub fn encoder(&self, label: &str) -> wgpu::CommandEncoder {
        self.device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
    }

    /// Waits until the GPU has finished submission `index` (not later ones).
    pub fn wait_for(&self, index: wgpu::SubmissionIndex) {
        let poll = wgpu::PollType::Wait {
            submission_index: Some(index),
            timeout: None,
        };
        if let Err(e) = self.device.poll(poll) {
            tracing::warn!("GPU poll failed: {e}");
        }
    }

    /// Waits until the GPU has finished all submitted work.
    pub fn wait(&self) {
        if let Err(e) = self.device.poll(wgpu::PollType::wait_indefinitely()) {
            tracing::warn!("GPU poll failed: {e}");
        }
    }
}
