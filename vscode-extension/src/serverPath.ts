// Where the amct-lsp binary is, following vscode-clangd's order: the setting, else
// the binary bundled in the extension, else `amct-lsp` on PATH.
import * as path from 'node:path';

export interface ServerPathInputs {
  /** amct.server.path as configured ('' when unset). */
  configured: string;
  extensionPath: string;
  platform: string;  // process.platform
  arch: string;  // process.arch
  homeDir: string;
  /** First workspace folder, for `${workspaceFolder}` and relative paths. */
  workspaceFolder?: string;
  /** PATH of the extension host. */
  pathEnv: string;
  isExecutable: (file: string) => boolean;
}

export type ServerPath =
  | { path: string; source: 'setting' | 'bundled' | 'PATH' }
  | { error: string };

export const SERVER_NAME = 'amct-lsp';

export function bundledServerPath(extensionPath: string, platform: string, arch: string): string {
  const exe = platform === 'win32' ? `${SERVER_NAME}.exe` : SERVER_NAME;
  return path.join(extensionPath, 'server', `${platform}-${arch}`, exe);
}

/** Expands `~`, `${userHome}` and `${workspaceFolder}`; relative paths resolve against the workspace folder. */
export function expandPath(value: string, homeDir: string, workspaceFolder?: string): string {
  let result = value.trim();
  if (result === '~' || result.startsWith('~/')) result = homeDir + result.slice(1);
  result = result.replace(/\$\{userHome\}/g, homeDir);
  if (workspaceFolder !== undefined) result = result.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  if (workspaceFolder !== undefined && !path.isAbsolute(result) && result.includes('/')) {
    result = path.join(workspaceFolder, result);
  }
  return result;
}

export function findOnPath(name: string, pathEnv: string, isExecutable: (file: string) => boolean): string | undefined {
  for (const dir of pathEnv.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function resolveServerPath(inputs: ServerPathInputs): ServerPath {
  const configured = inputs.configured.trim();
  if (configured) {
    const expanded = expandPath(configured, inputs.homeDir, inputs.workspaceFolder);
    // A bare name ("amct-lsp-dev") is looked up on PATH, like a shell would.
    if (!expanded.includes('/') && !expanded.includes('\\')) {
      const found = findOnPath(expanded, inputs.pathEnv, inputs.isExecutable);
      if (found) return { path: found, source: 'setting' };
      return { error: `amct.server.path is '${configured}', which is not on PATH` };
    }
    if (inputs.isExecutable(expanded)) return { path: expanded, source: 'setting' };
    return { error: `amct.server.path is '${configured}', but ${expanded} is not an executable file` };
  }
  const bundled = bundledServerPath(inputs.extensionPath, inputs.platform, inputs.arch);
  if (inputs.isExecutable(bundled)) return { path: bundled, source: 'bundled' };
  const onPath = findOnPath(SERVER_NAME, inputs.pathEnv, inputs.isExecutable);
  if (onPath) return { path: onPath, source: 'PATH' };
  return {
    error: `no amct-lsp binary: none is bundled for ${inputs.platform}-${inputs.arch} and none is on PATH; ` +
      'set amct.server.path to the binary built from the amct-lsp repository',
  };
}
