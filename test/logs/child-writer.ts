// Appends numbered lines to a log, sometimes in two writes (a partial line
// first), and rotates it (rename + create) halfway:
//   bun child-writer.ts LOG COUNT
import { closeSync, openSync, renameSync, writeSync } from "node:fs";

const [log, countArg] = process.argv.slice(2);
const count = Number(countArg);
let fd = openSync(log, "a");
for (let i = 0; i < count; i++) {
  if (i === Math.floor(count / 2)) {
    closeSync(fd);
    renameSync(log, `${log}.1`);
    fd = openSync(log, "a");
  }
  const line = `line ${i} ${"p".repeat(i % 50)}\n`;
  if (i % 7 === 0) {
    writeSync(fd, line.slice(0, 5));
    await new Promise((r) => setTimeout(r, 1));
    writeSync(fd, line.slice(5));
  } else {
    writeSync(fd, line);
  }
  if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
}
closeSync(fd);
