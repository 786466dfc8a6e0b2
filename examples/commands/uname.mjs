// A user command for vaat: `vaat uname VMCOREINFO`, like uname -a on the crashed machine.
// Install by copying this file to ~/.config/vaat/commands/ or by naming its directory in
// VAAT_COMMANDS (colon-separated). It uses only vaat's public API.
import { defineCommand } from 'vaat';

export default defineCommand({
  name: 'uname',
  summary: 'the crashed kernel\'s uname (example user command)',
  options: [{ flags: '-n, --nodename', description: 'print only the node name' }],
  run({ vm }) {
    const u = vm.object('init_uts_ns').member('name');
    const field = (f) => u.member(f).string();
    return {
      sysname: field('sysname'),
      nodename: field('nodename'),
      release: field('release'),
      version: field('version'),
      machine: field('machine'),
    };
  },
  render(r, out, options) {
    out.line(options.nodename ? r.nodename : [r.sysname, r.nodename, r.release, r.version, r.machine].join(' '));
  },
});
