// VS Code client of amct-lsp. Thin: all language logic is in the server; the
// extension finds the binary, passes the settings, and runs the command-line modes
// (--estimate, --resolve, --check for the status bar) on the current file.
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, State } from 'vscode-languageclient/node';
import { AMCT_CFG, GENERIC_CFG_LANGUAGES, TEXTPROTO, languageFor } from './fileAssociation';
import { resolveServerPath } from './serverPath';
import { AmctSettings, PathContext, estimateArguments, initializationOptions, readSettings, resolveArguments } from './settings';
import { parseSocTable } from './socTable';

const LANGUAGES = [AMCT_CFG, TEXTPROTO];

let client: LanguageClient | undefined;
let serverPath: string | undefined;
let context: vscode.ExtensionContext;
let log: vscode.OutputChannel;
let toolOutput: vscode.OutputChannel;
let statusItem: vscode.StatusBarItem;

const isOurs = (document: vscode.TextDocument) => LANGUAGES.includes(document.languageId);

function settings(scope?: vscode.Uri): AmctSettings {
  const config = vscode.workspace.getConfiguration('amct', scope);
  return readSettings((key) => config.get(key));
}

function pathContext(scope?: vscode.Uri): PathContext {
  const folder = (scope && vscode.workspace.getWorkspaceFolder(scope)) ?? vscode.workspace.workspaceFolders?.[0];
  return { homeDir: os.homedir(), workspaceFolder: folder?.uri.fsPath };
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findServer(): string | undefined {
  const result = resolveServerPath({
    configured: vscode.workspace.getConfiguration('amct').get<string>('server.path') ?? '',
    extensionPath: context.extensionPath,
    platform: process.platform,
    arch: process.arch,
    homeDir: os.homedir(),
    workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    pathEnv: process.env.PATH ?? '',
    isExecutable,
  });
  if ('error' in result) {
    log.appendLine(result.error);
    void vscode.window.showErrorMessage(`AMCT: ${result.error}`, 'Open Settings').then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'amct.server.path');
    });
    return undefined;
  }
  log.appendLine(`amct-lsp: ${result.path} (${result.source})`);
  return result.path;
}

async function startClient(): Promise<void> {
  if (client) return;
  serverPath = findServer();
  if (!serverPath) return;
  const serverOptions: ServerOptions = { command: serverPath, args: ['--stdio'] };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
    initializationOptions: initializationOptions(settings(), pathContext()),
    synchronize: { configurationSection: 'amct' },
    outputChannel: log,
    // Diagnostics are pulled: the server does not push to a client that pulls, and asks
    // it to pull again (workspace/diagnostic/refresh) when settings change a result.
  };
  client = new LanguageClient('amct', 'AMCT Language Server', serverOptions, clientOptions);
  client.onDidChangeState((event) => {
    if (event.newState === State.Stopped) updateStatus();
  });
  await client.start();
  updateStatus();
}

async function stopClient(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) await running.stop().catch((error) => log.appendLine(`stop: ${error}`));
}

async function restartServer(): Promise<void> {
  await stopClient();
  await startClient();
  if (client) void vscode.window.setStatusBarMessage('AMCT: language server restarted', 3000);
}

/** Gives a `.cfg` our language when its name or first line says it is an AMCT config. */
async function adoptDocument(document: vscode.TextDocument): Promise<void> {
  if (document.uri.scheme !== 'file' && document.uri.scheme !== 'untitled') return;
  if (!isOurs(document) && GENERIC_CFG_LANGUAGES.includes(document.languageId)) {
    const firstLine = document.lineCount > 0 ? document.lineAt(0).text : '';
    if (languageFor(document.fileName, firstLine) === AMCT_CFG) {
      await vscode.languages.setTextDocumentLanguage(document, AMCT_CFG);
      return;  // reopened under the new language: this handler runs again
    }
  }
  if (isOurs(document)) await startClient();
}

// ---- status bar: bound schema and SoC --------------------------------------------

function headerValue(document: vscode.TextDocument, key: string): string | undefined {
  const pattern = new RegExp(`^\\s*#\\s*${key}:\\s*(\\S.*?)\\s*$`);
  for (let line = 0; line < Math.min(document.lineCount, 50); line++) {
    const match = pattern.exec(document.lineAt(line).text);
    if (match) return match[1];
  }
  return undefined;
}

/** The schema the server binds, from `amct-lsp --check --format json` (the server's own answer). */
function boundSchema(document: vscode.TextDocument): Promise<string | undefined> {
  if (!serverPath || document.uri.scheme !== 'file') return Promise.resolve(undefined);
  const s = settings(document.uri);
  const args = ['--check', '--format', 'json'];
  if (s.socVersion) args.push('--soc', s.socVersion);
  if (s.api) args.push('--api', s.api);
  for (const root of s.importRoots) args.push('-I', root);
  args.push(document.uri.fsPath);
  return new Promise((resolve) => {
    cp.execFile(serverPath!, args, { timeout: 10000, maxBuffer: 16 << 20, cwd: pathContext(document.uri).workspaceFolder }, (_error, stdout) => {
      try {
        const schema = JSON.parse(stdout)?.files?.[0]?.schema;
        resolve(typeof schema === 'string' && schema ? schema : typeof schema === 'object' && schema ? (schema.message ?? schema.name) : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}

let statusGeneration = 0;
function updateStatus(): void {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !isOurs(editor.document)) {
    statusItem.hide();
    return;
  }
  const document = editor.document;
  const soc = headerValue(document, 'soc') ?? settings(document.uri).socVersion;
  const generation = ++statusGeneration;
  const show = (schema: string | undefined) => {
    if (generation !== statusGeneration) return;
    const schemaText = schema ?? headerValue(document, 'proto-message') ?? (document.languageId === AMCT_CFG ? 'AMCTRetrainConfig' : 'no schema');
    statusItem.text = `$(symbol-structure) ${schemaText} · ${soc || 'no SoC'}`;
    statusItem.tooltip = new vscode.MarkdownString(
      `**amct-lsp**${client ? '' : ' (not running)'}\n\nSchema: \`${schemaText}\`\n\nSoC: ${soc ? `\`${soc}\`` : 'none (amct.socVersion or a `# soc:` header)'}\n\nClick to select the SoC.`);
    statusItem.show();
  };
  show(undefined);
  void boundSchema(document).then(show);
}

// ---- commands --------------------------------------------------------------------

function socTablePath(): string | undefined {
  // Packaged: data/ inside the extension; from the repository: the server's data/.
  for (const candidate of [path.join(context.extensionPath, 'data/soc_capabilities.tsv'),
    path.join(context.extensionPath, '../data/soc_capabilities.tsv')]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function selectSoc(): Promise<void> {
  const table = socTablePath();
  const socs = table ? parseSocTable(fs.readFileSync(table, 'utf8')) : [];
  const current = settings().socVersion;
  const items: (vscode.QuickPickItem & { value: string })[] = [
    { label: 'None', description: 'no SoC checks', value: '' },
    ...socs.map((soc) => ({
      label: soc.name,
      description: soc.name === current ? `${soc.series} (current)` : soc.series,
      detail: `INT8${soc.int4 ? ', INT4' : ''}${soc.sparsity42 ? ', 4:2 sparsity' : ''}`,
      value: soc.name,
    })),
  ];
  const picked = await vscode.window.showQuickPick(items, { placeHolder: 'SoC the configs are checked for (amct.socVersion)', matchOnDescription: true });
  if (!picked) return;
  const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('amct').update('socVersion', picked.value, target);
  updateStatus();
}

async function currentConfigFile(): Promise<vscode.TextDocument | undefined> {
  const document = vscode.window.activeTextEditor?.document;
  if (!document || !isOurs(document) || document.uri.scheme !== 'file') {
    void vscode.window.showErrorMessage('AMCT: open an AMCT config file first');
    return undefined;
  }
  if (document.isDirty) await document.save();  // the command line reads the file on disk
  return document;
}

/** Runs amct-lsp with `args`, showing its output in the "AMCT" output channel. */
function runTool(title: string, args: string[], cwd?: string): Promise<void> {
  if (!serverPath) serverPath = findServer();
  if (!serverPath) return Promise.resolve();
  toolOutput.clear();
  toolOutput.show(true);
  toolOutput.appendLine(`$ amct-lsp ${args.join(' ')}`);
  return new Promise((resolve) => {
    cp.execFile(serverPath!, args, { cwd, maxBuffer: 64 << 20, timeout: 600000 }, (error, stdout, stderr) => {
      toolOutput.append(stdout);
      if (stderr) toolOutput.append(stderr);
      if (error && stdout === '') {
        const reason = stderr.trim().split('\n').pop() || error.message;
        void vscode.window.showErrorMessage(`AMCT ${title} failed: ${reason}`);
      }
      resolve();
    });
  });
}

async function runEstimate(): Promise<void> {
  const document = await currentConfigFile();
  if (!document) return;
  const args = estimateArguments(document.uri.fsPath, settings(document.uri), pathContext(document.uri));
  if ('error' in args) {
    const choice = await vscode.window.showErrorMessage(`AMCT: ${args.error}`, 'Open Settings');
    if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'amct.weights');
    return;
  }
  await runTool('estimate', args, pathContext(document.uri).workspaceFolder);
}

async function showResolvedConfig(): Promise<void> {
  const document = await currentConfigFile();
  if (!document) return;
  const layer = await vscode.window.showInputBox({
    prompt: 'Layer name (as in the model, e.g. layer1.0.conv1); add ":Type" to give its layer type',
    placeHolder: 'layer1.0.conv1:Conv2d',
  });
  if (!layer) return;
  const [name, type] = layer.split(':').map((part) => part.trim());
  await runTool('resolve', resolveArguments(document.uri.fsPath, name, settings(document.uri), type), pathContext(document.uri).workspaceFolder);
}

async function useForFile(): Promise<void> {
  const document = vscode.window.activeTextEditor?.document;
  if (document) await vscode.languages.setTextDocumentLanguage(document, AMCT_CFG);
}

export async function activate(extensionContext: vscode.ExtensionContext): Promise<void> {
  context = extensionContext;
  log = vscode.window.createOutputChannel('AMCT Language Server');
  toolOutput = vscode.window.createOutputChannel('AMCT');
  statusItem = vscode.window.createStatusBarItem('amct.status', vscode.StatusBarAlignment.Right, 100);
  statusItem.name = 'AMCT schema and SoC';
  statusItem.command = 'amct.selectSoc';
  context.subscriptions.push(
    log, toolOutput, statusItem,
    vscode.commands.registerCommand('amct.restartServer', restartServer),
    vscode.commands.registerCommand('amct.selectSoc', selectSoc),
    vscode.commands.registerCommand('amct.runEstimate', runEstimate),
    vscode.commands.registerCommand('amct.showResolvedConfig', showResolvedConfig),
    vscode.commands.registerCommand('amct.useForFile', useForFile),
    vscode.workspace.onDidOpenTextDocument(adoptDocument),
    vscode.workspace.onDidSaveTextDocument(() => updateStatus()),
    vscode.window.onDidChangeActiveTextEditor(() => updateStatus()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('amct.server.path')) void restartServer();
      else if (event.affectsConfiguration('amct')) updateStatus();
    }),
  );
  for (const document of vscode.workspace.textDocuments) await adoptDocument(document);
  updateStatus();
}

export function deactivate(): Thenable<void> | undefined {
  return client?.stop();
}
