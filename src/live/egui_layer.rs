//! egui on one of our windows: input from winit, tessellation, drawing with
//! our own wgpu device into the window's surface texture (the control
//! window, or the overlay on the projector in one-window mode).

use std::sync::Arc;

use winit::window::Window;

use crate::render::Gpu;

/// egui state and painter for one window.
pub struct EguiLayer {
    /// Input and platform state.
    pub state: egui_winit::State,
    painter: egui_wgpu::Renderer,
    /// The projector's output registered as an egui texture (the preview).
    pub preview: egui::TextureId,
}

impl EguiLayer {
    /// A layer drawing to surfaces of `format`, with `preview_view` (the
    /// renderer's output texture) registered for the preview.
    pub fn new(
        gpu: &Gpu,
        window: &Arc<Window>,
        format: wgpu::TextureFormat,
        preview_view: &wgpu::TextureView,
    ) -> Self {
        let ctx = egui::Context::default();
        ctx.set_visuals(egui::Visuals::dark());
        let state = egui_winit::State::new(
            ctx,
            egui::ViewportId::ROOT,
            window,
            Some(window.scale_factor() as f32),
            window.theme(),
            Some(gpu.device.limits().max_texture_dimension_2d as usize),
        );
        let mut painter =
            egui_wgpu::Renderer::new(&gpu.device, format, egui_wgpu::RendererOptions::default());
        let preview =
            painter.register_native_texture(&gpu.device, preview_view, wgpu::FilterMode::Linear);
        Self {
            state,
            painter,
            preview,
        }
    }

    /// The egui context.
    pub fn ctx(&self) -> &egui::Context {
        self.state.egui_ctx()
    }

    /// Points the preview at a new output texture (after a resize).
    pub fn repoint_preview(&mut self, gpu: &Gpu, view: &wgpu::TextureView) {
        self.painter.update_egui_texture_from_wgpu_texture(
            &gpu.device,
            view,
            wgpu::FilterMode::Linear,
            self.preview,
        );
    }

    /// Runs `ui` and draws the result into `target`, cleared to `clear`
    /// first (transparent for the overlay's own texture). Returns true when egui wants another
    /// frame soon (an animation or an interaction in progress).
    pub fn draw(
        &mut self,
        gpu: &Gpu,
        window: &Window,
        target: &wgpu::TextureView,
        size: [u32; 2],
        clear: wgpu::Color,
        ui: impl FnMut(&mut egui::Ui),
    ) -> bool {
        let raw = self.state.take_egui_input(window);
        let full = self.state.egui_ctx().run_ui(raw, ui);
        let egui::FullOutput {
            platform_output,
            mut textures_delta,
            shapes,
            pixels_per_point,
            viewport_output,
        } = full;
        self.state.handle_platform_output(window, platform_output);
        let jobs = self.state.egui_ctx().tessellate(shapes, pixels_per_point);
        for (id, deltas) in textures_delta.set.drain() {
            for d in &deltas {
                self.painter.update_texture(&gpu.device, &gpu.queue, id, d);
            }
        }
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: size,
            pixels_per_point,
        };
        let mut encoder = gpu.encoder("egui");
        let cmds =
            self.painter
                .update_buffers(&gpu.device, &gpu.queue, &mut encoder, &jobs, &screen);
        {
            let mut pass = encoder
                .begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("egui"),
                    color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                        view: target,
                        depth_slice: None,
                        resolve_target: None,
                        ops: wgpu::Operations {
                            load: wgpu::LoadOp::Clear(clear),
                            store: wgpu::StoreOp::Store,
                        },
                    })],
                    depth_stencil_attachment: None,
                    timestamp_writes: None,
                    occlusion_query_set: None,
                    multiview_mask: None,
                })
                .forget_lifetime();
            self.painter.render(&mut pass, &jobs, &screen);
        }
        gpu.queue.submit(cmds.into_iter().chain([encoder.finish()]));
        for id in textures_delta.free.drain() {
            self.painter.free_texture(&id);
        }
        viewport_output
            .get(&egui::ViewportId::ROOT)
            .is_some_and(|v| v.repaint_delay.is_zero())
    }
}
