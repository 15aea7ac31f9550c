// Private on-disk state (the compile cache, kernel types, clang modules): one owner of private directories,
// untrusting reads, atomic writes and temporary work directories.
export {
  StoreError, bytesOf, euid, fileProblem, isPrivateFile, ownedAndClosed, pidAlive, readPrivateFile, removeUntrusted, sweepDeadTemps, tempNameFor, warnStore,
  writePrivateFile, writePrivateFileQuiet,
} from "./private-files.js";
export { isPrivateDir, privateRoot, privateSubdir, verifyTree, writePrivateTree } from "./private-dirs.js";
export { makeWorkDir, removeWorkDir, sweepWorkDirs } from "./work-dirs.js";
