import type { JsonObject, JsonValue } from '../../lib/extended-json.ts';
import type { ModelInfo, Rule } from '../types.ts';
import { confidence, fmt, issue, num, startKind } from './util.ts';

interface LayerRow {
  name: string;
  type: string;
  parameters: number;
  pct: number;
  activation: string | undefined;
  units: number | undefined;
  /** False when the layer is frozen (its weights are not trained). */
  trainable: boolean;
}

function layerRows(model: ModelInfo | null): LayerRow[] {
  const layers = model?.architecture?.layers;
  if (!layers || typeof layers !== 'object' || Array.isArray(layers)) return [];
  return Object.entries(layers as Record<string, JsonValue>).flatMap(([name, v]) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return [];
    const o = v as JsonObject;
    return [
      {
        name,
        type: String(o.type ?? ''),
        parameters: num(o.parameters) ?? 0,
        pct: num(o.pct_of_total) ?? 0,
        activation: typeof o.activation === 'string' ? o.activation.toLowerCase() : undefined,
        units: num(o.units),
        trainable: o.trainable !== false,
      },
    ];
  });
}

const NORM = /norm/i;
const RESIDUAL = /^(add|residual)/i;

/** Ten or more weight layers with neither normalisation nor residual connections. */
export const deepWithoutNormalisation: Rule = (ctx) => {
  const rows = layerRows(ctx.model);
  const weighted = rows.filter((r) => r.parameters > 0 && !NORM.test(r.type));
  if (weighted.length < 10 || rows.some((r) => NORM.test(r.type) || RESIDUAL.test(r.type))) return [];
  const graph = ctx.model?.architecture?.layer_graph as JsonObject | undefined;
  const hasSkip = Array.isArray(graph?.edges) && (graph.edges as JsonObject[]).some((e) => e && (e as JsonObject).kind === 'residual');
  if (hasSkip) return [];
  return [
    issue({
      code: 'architecture.deep_without_normalisation',
      severity: 'warning',
      category: 'architecture',
      title: 'Very deep network without normalisation or residuals',
      description: `The model stacks ${weighted.length} weight layers (threshold 10) with no normalisation layer and no residual connection: gradients are likely to vanish or explode.`,
      suggestion: 'Try: 1) add BatchNormalization or LayerNormalization between blocks, 2) add residual (skip) connections, 3) use He initialisation with ReLU.',
      confidence: confidence({ margin: weighted.length / 10, decisive: 2 }),
      metricValue: { weight_layers: weighted.length },
    }),
  ];
};

/** One layer holding over 80% of a large model's parameters. */
export const dominantLayer: Rule = (ctx) => {
  const rows = layerRows(ctx.model);
  const total = num(ctx.model?.architecture?.total_parameters) ?? rows.reduce((s, r) => s + r.parameters, 0);
  const top = rows.reduce<LayerRow | undefined>((a, b) => (!a || b.parameters > a.parameters ? b : a), undefined);
  if (!top || rows.length < 2 || total < 1e5 || top.parameters / total < 0.8) return [];
  return [
    issue({
      code: 'architecture.dominant_layer',
      severity: 'info',
      category: 'architecture',
      title: `One layer holds most parameters: ${top.name}`,
      description: `'${top.name}' (${top.type}) holds ${fmt(top.parameters)} of ${fmt(total)} parameters (${fmt((100 * top.parameters) / total)}%; threshold 80%).`,
      suggestion: 'If the model overfits or is slow, shrink that layer: pool or stride before a large Dense layer, or factorise it into two smaller ones.',
      confidence: confidence({ margin: top.parameters / total / 0.8, decisive: 1 / 0.8 }),
      layerId: top.name,
      metricValue: { parameters: top.parameters, total_parameters: total },
    }),
  ];
};

/** The output activation must suit the loss (softmax for categorical cross-entropy, and so on). */
export const lossActivationMismatch: Rule = (ctx) => {
  const hp = ctx.model?.hyperparameters ?? {};
  const loss = String(hp.loss ?? ctx.model?.architecture?.loss ?? '').toLowerCase().replace(/[_\s-]/g, '');
  const rows = layerRows(ctx.model).filter((r) => r.activation !== undefined);
  const out = rows[rows.length - 1];
  if (!loss || !out?.activation) return [];
  const act = out.activation;
  let problem: string | undefined;
  if (/(sparse)?categoricalcrossentropy/.test(loss) && !/fromlogits/.test(loss) && act !== 'softmax')
    problem = `categorical cross-entropy expects probabilities from a softmax output, but '${out.name}' uses '${act}'`;
  else if (/binarycrossentropy/.test(loss) && act !== 'sigmoid' && !(act === 'softmax' && out.units === 1))
    problem = `binary cross-entropy expects a sigmoid output, but '${out.name}' uses '${act}'`;
  else if (/softmaxcrossentropy|fromlogits/.test(loss) && (act === 'softmax' || act === 'sigmoid'))
    problem = `the loss takes logits and applies softmax itself, but '${out.name}' already applies '${act}'`;
  if (!problem) return [];
  return [
    issue({
      code: 'architecture.loss_activation_mismatch',
      severity: 'critical',
      category: 'architecture',
      title: 'Output activation does not fit the loss',
      description: `With loss '${String(hp.loss ?? loss)}', ${problem}. The model cannot learn correctly like this.`,
      suggestion: 'Match them: softmax + categoricalCrossentropy, sigmoid + binaryCrossentropy, linear (logits) + softmaxCrossEntropy/fromLogits, linear + meanSquaredError.',
      // A configuration that cannot work: a fact, not an estimate.
      confidence: 1,
      layerId: out.name,
      metricValue: { output_activation: act, loss: String(hp.loss ?? loss) },
    }),
  ];
};

/**
 * Layers with weights frozen (`trainable: false`) in a run that says nothing of starting from
 * trained weights: a new model's frozen layers keep their random initialisation for good. A
 * fine-tuned or resumed run (its `start` hyperparameter, see `startKind`) freezes on purpose.
 */
export const frozenFromScratch: Rule = (ctx) => {
  if (startKind(ctx) !== 'scratch') return [];
  const rows = layerRows(ctx.model).filter((r) => r.parameters > 0);
  const frozen = rows.filter((r) => !r.trainable);
  if (!frozen.length || frozen.length === rows.length) return [];
  const params = frozen.reduce((n, r) => n + r.parameters, 0);
  return [
    issue({
      code: 'architecture.frozen_layer',
      severity: 'warning',
      category: 'architecture',
      title: `Layer ${frozen[0]!.name} is frozen in a model trained from scratch`,
      description: `${frozen.length} of ${rows.length} weight layers (${frozen.map((r) => `'${r.name}'`).join(', ')}; ${fmt(params)} parameters) are frozen (trainable: false), and the run does not say it starts from trained weights (no 'start: fine_tuned' or 'resumed' hyperparameter): their random initial weights will never be trained (threshold: any frozen weight layer).`,
      suggestion: "Unfreeze them (layer.trainable = true, then compile again), or, when the weights come from a trained model, say so: obs.logHyperparameters({ start: 'fine_tuned' }) before registerModel.",
      // Freezing a random layer on purpose exists (random features), but is rare.
      confidence: confidence({ seen: frozen.length, of: rows.length }),
      layerId: frozen[0]!.name,
      metricValue: { frozen_layers: frozen.length, frozen_parameters: params },
    }),
  ];
};

export const architectureRules: Rule[] = [deepWithoutNormalisation, dominantLayer, lossActivationMismatch, frozenFromScratch];
