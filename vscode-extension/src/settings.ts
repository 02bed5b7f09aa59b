// The `amct.*` settings, as the server reads them (initializationOptions and
// workspace/configuration) and as the command line takes them.
import { expandPath } from './serverPath';

export interface SchemaMapping {
  glob: string;
  proto: string;
  message: string;
}

export interface AmctSettings {
  socVersion: string;
  api: string;
  weights: string;
  manifest: string;
  importRoots: string[];
  schemaMappings: SchemaMapping[];
  docsLanguage: string;
  estimatesIn: string;
}

const asString = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');
const asStrings = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(asString).filter((item) => item !== '') : [];

function asMappings(value: unknown): SchemaMapping[] {
  const valid = (glob: string, target: unknown): SchemaMapping | undefined => {
    if (typeof target !== 'object' || target === null) return undefined;
    const record = target as Record<string, unknown>;
    const mapping = { glob, proto: asString(record.proto ?? record.protoFile), message: asString(record.message) };
    return mapping.glob && mapping.proto && mapping.message ? mapping : undefined;
  };
  // An array of {glob, proto, message} (the documented shape) or {glob: {proto, message}}.
  const candidates = Array.isArray(value)
    ? value.map((item) => valid(asString((item as Record<string, unknown> | null)?.glob), item))
    : typeof value === 'object' && value !== null
      ? Object.entries(value).map(([glob, target]) => valid(glob.trim(), target))
      : [];
  return candidates.filter((mapping): mapping is SchemaMapping => mapping !== undefined);
}

/** Reads the settings through `get('socVersion')` etc. (vscode's WorkspaceConfiguration.get). */
export function readSettings(get: (key: string) => unknown): AmctSettings {
  return {
    socVersion: asString(get('socVersion')),
    api: asString(get('api')),
    weights: asString(get('weights')),
    manifest: asString(get('manifest')),
    importRoots: asStrings(get('importRoots')),
    schemaMappings: asMappings(get('schemaMappings')),
    docsLanguage: asString(get('docsLanguage')) || 'auto',
    estimatesIn: asString(get('estimatesIn')) || 'codeLens',
  };
}

export interface PathContext {
  homeDir: string;
  workspaceFolder?: string;
}

const resolvePath = (value: string, context: PathContext) =>
  expandPath(value, context.homeDir, context.workspaceFolder);

/**
 * initializationOptions for the server: the settings it reads, without empty ones
 * (an empty value means "the server's default"), paths made absolute.
 */
export function initializationOptions(settings: AmctSettings, context: PathContext): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (settings.socVersion) options.socVersion = settings.socVersion;
  if (settings.api) options.api = settings.api;
  if (settings.weights) options.weights = absolute(settings.weights, context);
  if (settings.manifest) options.manifest = absolute(settings.manifest, context);
  if (settings.importRoots.length) options.importRoots = settings.importRoots.map((root) => absolute(root, context));
  if (settings.schemaMappings.length) options.schemaMappings = settings.schemaMappings;
  if (settings.docsLanguage && settings.docsLanguage !== 'auto') options.docsLanguage = settings.docsLanguage;
  if (settings.estimatesIn === 'inlayHint') options.estimatesIn = settings.estimatesIn;
  return options;
}

/** A path setting made absolute against the workspace folder (a bare file name too). */
export function absolute(value: string, context: PathContext): string {
  const expanded = resolvePath(value, context);
  if (expanded.startsWith('/') || /^[A-Za-z]:[\\/]/.test(expanded) || context.workspaceFolder === undefined) return expanded;
  return `${context.workspaceFolder}/${expanded}`;
}

/** Command line of `amct-lsp --estimate FILE`, or an error when a needed setting is missing. */
export function estimateArguments(file: string, settings: AmctSettings, context: PathContext): string[] | { error: string } {
  if (!settings.weights) return { error: 'set amct.weights to a sample weights file (safetensors or ONNX) to run an estimate' };
  const args = ['--estimate', file, '--weights', absolute(settings.weights, context)];
  if (settings.manifest) args.push('--manifest', absolute(settings.manifest, context));
  if (settings.socVersion) args.push('--soc', settings.socVersion);
  args.push('--format', 'text');
  return args;
}

/** Command line of `amct-lsp --resolve FILE --layer NAME`. */
export function resolveArguments(file: string, layer: string, settings: AmctSettings, layerType?: string): string[] {
  const args = ['--resolve', file, '--layer', layer];
  if (layerType) args.push('--type', layerType);
  if (settings.socVersion) args.push('--soc', settings.socVersion);
  if (settings.api) args.push('--api', settings.api);
  args.push('--format', 'text');
  return args;
}
