/** The seed's full step payload (§6): layer health for `layers` layers, profiler top-20 ops. */
export function seedStep(stepIndex: number, loss: number | string = 2.3 - stepIndex * 0.01, layers = 24): Record<string, unknown> {
  return {
    step_index: stepIndex,
    timestamp: new Date().toISOString(),
    duration_seconds: 12.5,
    loss: { train_mean: loss, train_min: 2.1, train_max: 2.5, train_std: 0.12, num_batches: 100, val: { val_loss: 2.35 * 0.98 ** stepIndex } },
    throughput: { samples_processed: 3200, tokens_processed: 409600, samples_per_second: 256, tokens_per_second: 32768 },
    profiler: {
      total_cpu_time_ms: 8500.2,
      total_cuda_time_ms: 3200.5,
      top_operations: Array.from({ length: 20 }, (_, i) => ({ name: `aten::op_${i}`, calls: 1200 - i, cpu_time_ms: 400 - i * 10 })),
      per_layer: Array.from({ length: 8 }, (_, i) => ({ layer: `blocks.${i}.ffn.fc1`, fwd_us: 12000, bwd_us: 18000, total_us: 30000, pct_of_total: 5.5 })),
    },
    memory: { cuda_allocated_mb: 2048.5, cuda_peak_allocated_mb: 3072, process_rss_mb: 4096, num_tensors: 120 },
    system: { cpu_percent: 45.2, ram_percent: 67.8, gpu_name: 'NVIDIA GeForce RTX 4090' },
    layer_health: {
      layers: Object.fromEntries(
        Array.from({ length: layers }, (_, i) => [
          `blocks.${i}.ffn.fc1`,
          { activation_mean: 0.5, activation_std: 0.2, gradient_norm_mean: 0.001, weight_sparsity: 0.05, is_dead: false, has_vanishing_gradients: false },
        ]),
      ),
    },
    sustainability: {
      layer_efficiency: [{ layer: 'blocks.0.ffn.fc1', us_per_param: 0.02 }],
      marginal_loss: { delta: -0.01 },
      step_compute_cost: { gflops: 12.3 },
      cumulative_compute: { total_gflops: 1230 },
    },
  };
}

/** The seed's session metadata (§6). */
export const seedSession = (runName: string) => ({
  run_id: `1_${runName}`,
  run_name: runName,
  started_at: '2026-02-21T10:30:00.000000',
  device: 'NVIDIA GeForce RTX 4090',
  cuda_available: true,
  pytorch_version: '2.1.0',
  config: { track_profiler: true, track_memory: true, pending_timeout: 39.0 },
  status: 'running',
});
