// C snippets the file tools share (filetop, ext4slower, filelife, ...): the current task's struct file for an fd
// (task->files->fdt->fd[fd], what a syscall tracepoint gives instead of vfs_*'s struct file argument), a file's
// type letter as BCC prints it, and the name of the filesystem a file lives on. Types come from the kernel's BTF.
import { ArgumentError } from "../../errors.js";

/** `static struct file *fd_file(long fd)`: the current task's open file `fd`, or NULL. */
export const FD_FILE_C = `
static struct file *fd_file(long fd) {
    if (fd < 0) return NULL;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct fdtable *fdt = task->files->fdt;
    if ((unsigned int)fd >= fdt->max_fds) return NULL;
    struct file **fds = fdt->fd;
    struct file *f = NULL;
    bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
    return f;
}
`;

/** `static char file_type(struct file *f)`: 'R' regular, 'S' socket, 'O' other (BCC filetop's T column). */
export const FILE_TYPE_C = `
static char file_type(struct file *f) {
    umode_t mode = f->f_inode->i_mode;
    if (S_ISREG(mode)) return 'R';
    if (S_ISSOCK(mode)) return 'S';
    return 'O';
}
`;

/** `static int file_on_fs(struct file *f)`: is the file's filesystem type `fs` ("ext4")? Compared byte by byte. */
export function fileOnFsC(fs: string): string {
  if (!/^[a-z0-9_]{1,14}$/.test(fs)) throw new ArgumentError("fs", `not a filesystem type name: ${JSON.stringify(fs)}`);
  const bytes = [...fs].map((ch, i) => `got[${i}] == '${ch}'`).concat(`got[${fs.length}] == 0`).join(" && ");
  return `
static int file_on_fs(struct file *f) {
    char got[16] = {};
    bpf_probe_read_kernel_str(&got, sizeof(got), f->f_inode->i_sb->s_type->name);
    return ${bytes};
}
`;
}
