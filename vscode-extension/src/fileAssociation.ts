// Which language a file gets. `.cfg` is a generic extension (INI-like files of many
// tools), so only AMCT's own names and `.cfg` files that declare a text format schema
// in their first line are AMCT configs. Kept in sync with package.json's
// `contributes.languages` (a unit test compares them).

export const AMCT_CFG = 'amct-cfg';
export const TEXTPROTO = 'textproto';

/** Words in AMCT's config file names: quant.cfg, prune.cfg, compressed.cfg, ... */
export const AMCT_NAME_WORDS = ['quant', 'prune', 'compress', 'retrain', 'distill'] as const;
export const AMCT_FILENAME_PATTERNS = AMCT_NAME_WORDS.map((word) => `*${word}*.cfg`);
export const TEXTPROTO_EXTENSIONS = ['.txtpb', '.textproto', '.textpb', '.pbtxt', '.prototxt'];
/** The first line of a file that binds a schema: `# proto-file: x.proto`, `# proto-message: pkg.M`. */
export const SCHEMA_HEADER_FIRST_LINE = '^\\s*#\\s*proto-(file|message|import):';

const schemaHeader = new RegExp(SCHEMA_HEADER_FIRST_LINE);

function baseName(fileName: string): string {
  return fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
}

export function hasSchemaHeader(firstLine: string): boolean {
  return schemaHeader.test(firstLine);
}

export function isAmctFileName(fileName: string): boolean {
  const name = baseName(fileName).toLowerCase();
  return name.endsWith('.cfg') && AMCT_NAME_WORDS.some((word) => name.slice(0, -'.cfg'.length).includes(word));
}

/**
 * The language of a file from its name and first line, or undefined when it is
 * none of ours (an ordinary `.cfg` stays whatever VS Code made of it).
 */
export function languageFor(fileName: string, firstLine: string): string | undefined {
  const name = baseName(fileName).toLowerCase();
  if (TEXTPROTO_EXTENSIONS.some((extension) => name.endsWith(extension))) return TEXTPROTO;
  if (!name.endsWith('.cfg')) return undefined;
  if (isAmctFileName(name) || hasSchemaHeader(firstLine)) return AMCT_CFG;
  return undefined;
}

/** Languages VS Code gives `.cfg` files by default, which we may replace by amct-cfg. */
export const GENERIC_CFG_LANGUAGES = ['plaintext', 'properties', 'ini'];
