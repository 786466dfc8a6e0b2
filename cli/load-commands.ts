/**
 * Finding commands: the built-ins, then users' own from the directories in VAAT_COMMANDS
 * (colon-separated) and ~/.config/vaat/commands/. A user command is an ESM module whose default
 * export is a command object (see src/plugin.ts); `.ts` files load only when Node can import them
 * (a TypeScript loader is registered).
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { VaatCommand } from '../src/plugin.js';
import { builtinCommands } from '../commands/index.js';
import { importModule } from '../src/dynamic-import.js';

export interface LoadedCommand {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  command: VaatCommand<any, any>;
  /** 'built-in' or the file it came from */
  source: string;
}

export function userCommandDirs(env = process.env): string[] {
  const dirs = (env.VAAT_COMMANDS ?? '').split(':').filter(Boolean).map((d) => resolve(d));
  dirs.push(join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'vaat', 'commands'));
  return dirs;
}

function looksLikeCommand(v: unknown): v is VaatCommand {
  const c = v as VaatCommand;
  return !!c && typeof c.name === 'string' && typeof c.run === 'function' && typeof c.render === 'function';
}

/** All commands; problems loading a user file are returned as warnings, never thrown. */
export async function loadCommands(env = process.env): Promise<{ commands: LoadedCommand[]; warnings: string[] }> {
  const commands: LoadedCommand[] = builtinCommands.map((command) => ({ command, source: 'built-in' }));
  const warnings: string[] = [];
  const canLoadTs = process.execArgv.some((a) => /tsx|ts-node|strip-types|loader/.test(a)) || !!process.env.VAAT_TS_LOADER;
  for (const dir of userCommandDirs(env)) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (!/\.(m?js|ts)$/.test(name) || name.endsWith('.d.ts')) continue;
      if (name.endsWith('.ts') && !canLoadTs) { warnings.push(`${join(dir, name)}: skipped, no TypeScript loader registered`); continue; }
      const file = join(dir, name);
      try {
        const mod = (await importModule(pathToFileURL(file).href)) as { default?: unknown };
        if (!looksLikeCommand(mod.default)) { warnings.push(`${file}: default export is not a vaat command`); continue; }
        if (commands.some((c) => c.command.name === (mod.default as VaatCommand).name)) {
          warnings.push(`${file}: command '${(mod.default as VaatCommand).name}' already defined, ignored`);
          continue;
        }
        commands.push({ command: mod.default, source: file });
      } catch (err) {
        warnings.push(`${file}: failed to load: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  return { commands, warnings };
}
