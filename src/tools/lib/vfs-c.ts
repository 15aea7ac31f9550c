// C snippets the file tools share (filetop, ext4slower, filelife, ...): the current task's struct file for an fd
// (task->files->fdt->fd[fd], what a syscall tracepoint gives instead of vfs_*'s struct file argument), a file's
// type letter as BCC prints it, and the name of the filesystem a file lives on. Types come from the kernel's BTF.

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

/** `static int file_on_fs(struct file *f, const char *name, int len)`: is the file's filesystem type `name`? */
export const FILE_ON_FS_C = `
static int file_on_fs(struct file *f, const char *want, int len) {
    const char *fsname = f->f_inode->i_sb->s_type->name;
    char got[16] = {};
    bpf_probe_read_kernel_str(&got, sizeof(got), fsname);
    for (int i = 0; i < 16; i++) {
        if (i >= len) return got[i] == 0;
        if (got[i] != want[i]) return 0;
    }
    return 0;
}
`;
