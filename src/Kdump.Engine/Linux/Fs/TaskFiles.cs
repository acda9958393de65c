using Kdump.Engine.Model;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Fs;

/// <summary>
/// A task's open files: task->files->fdt->fd[0..max_fds), each struct file's path resolved against the task's
/// root (task->fs->root), and the task's root and working directory.
/// </summary>
public static class TaskFiles
{
    /// <summary>Upper bound on a descriptor table (the kernel's NR_OPEN limit is 1M by default).</summary>
    public const uint MaxFds = 1 << 24;

    /// <summary>
    /// Reads a task's files. Throws KdumpException "TaskFilesUnavailable" when its files_struct or fs_struct cannot be
    /// read (excluded pages); a single descriptor whose file is unreadable is reported with Type "?" and the reason as
    /// its Path.
    /// </summary>
    public static CrashTaskFiles Read(KernelProgram p, CrashProcess task, CancellationToken cancellation = default)
    {
        var r = new PathResolver(p);
        var l = r.Layout;
        var tl = p.FindType("struct task_struct");
        ulong fsPtr, filesPtr;
        VfsPath root = default, pwd = default;
        string rootText = "", cwdText = "";
        try
        {
            fsPtr = p.ReadU64(task.Task + KernelObject.MemberOffset(tl, "fs"));
            filesPtr = p.ReadU64(task.Task + KernelObject.MemberOffset(tl, "files"));
            if (fsPtr != 0)
            {
                root = r.ReadPath(fsPtr + l.FsRoot);
                pwd = r.ReadPath(fsPtr + l.FsPwd);
                rootText = r.Resolve(root, root);
                cwdText = r.Resolve(pwd, root);
            }
        }
        catch (KdumpException ex)
        {
            throw new KdumpException("TaskFilesUnavailable", KdumpErrorKind.Unavailable, $"The files of task {task.Pid} (0x{task.Task:x}, {task.Command}) cannot be read: {ex.Message}", task.Task, ex);
        }
        var result = new CrashTaskFiles
        {
            Vmcore = task.Vmcore, Pid = task.Pid, Task = task.Task, Cpu = task.Cpu, Command = task.Command, Root = rootText, Cwd = cwdText,
        };
        if (filesPtr == 0) return result;
        ulong fdArray; uint maxFds;
        try
        {
            ulong fdt = p.ReadU64(filesPtr + l.FilesFdt);
            maxFds = p.ReadU32(fdt + l.FdtMaxFds);
            fdArray = p.ReadU64(fdt + l.FdtFd);
        }
        catch (KdumpException ex)
        {
            throw new KdumpException("TaskFilesUnavailable", KdumpErrorKind.Unavailable, $"The descriptor table of task {task.Pid} (0x{task.Task:x}, {task.Command}) cannot be read: {ex.Message}", task.Task, ex);
        }
        if (maxFds > MaxFds)
            throw new KdumpException("FdTableTooLarge", KdumpErrorKind.LimitExceeded, $"Task {task.Pid} claims {maxFds} descriptors (limit {MaxFds}).", task.Task);
        var files = new List<CrashFile>();
        const int chunk = 512;
        var buf = new byte[chunk * 8];
        for (uint start = 0; start < maxFds; start += chunk)
        {
            cancellation.ThrowIfCancellationRequested();
            int n = (int)Math.Min(chunk, maxFds - start);
            try { p.ReadKernel(fdArray + start * 8UL, buf.AsSpan(0, n * 8)); }
            catch (KdumpException ex)
            {
                throw new KdumpException("TaskFilesUnavailable", KdumpErrorKind.Unavailable, $"The descriptor array of task {task.Pid} (0x{task.Task:x}, {task.Command}) cannot be read at fd {start}: {ex.Message}", task.Task, ex);
            }
            for (int i = 0; i < n; i++)
            {
                ulong file = BitConverter.ToUInt64(buf, i * 8);
                if (file == 0) continue;
                files.Add(ReadFile(p, r, task, result, (int)(start + i), file, root));
            }
        }
        result.Files = files;
        return result;
    }

    private static CrashFile ReadFile(KernelProgram p, PathResolver r, CrashProcess task, CrashTaskFiles owner, int fd, ulong file, VfsPath root)
    {
        var l = r.Layout;
        ulong dentry = 0, inode = 0;
        try
        {
            var path = r.ReadPath(file + l.FilePath);
            dentry = path.Dentry;
            inode = p.ReadU64(file + l.FileInode);
            uint mode = inode != 0 ? p.ReadU16(inode + l.InodeMode) : 0u;
            ulong ino = inode != 0 ? p.ReadU64(inode + l.InodeIno) : 0;
            string type = TypeOf(mode);
            string? protocol = null;
            bool anon = inode != 0 && (r.SuperMagic(inode) & 0xffffffff) == PathResolver.AnonInodeFsMagic;
            if (type == "SOCK" && l.SocketSk is { } skOff && l.SockProt is { } protOff && l.ProtoName is { } nameOff)
            {
                try
                {
                    ulong sock = p.ReadU64(file + l.FilePrivate);
                    ulong sk = sock == 0 ? 0 : p.ReadU64(sock + skOff);
                    ulong prot = sk == 0 ? 0 : p.ReadU64(sk + protOff);
                    if (prot != 0) protocol = p.ReadCString(prot + nameOff, 32);
                }
                catch (KdumpException) { /* the socket is gone or unreadable: no protocol */ }
            }
            return new CrashFile
            {
                Vmcore = task.Vmcore, Pid = task.Pid, Task = task.Task, Command = task.Command, Owner = owner,
                Fd = fd, File = file, Dentry = dentry, Inode = inode, Type = type, Mode = mode, InodeNumber = ino,
                Path = r.Resolve(path, root), Position = (long)p.ReadU64(file + l.FilePos), Flags = p.ReadU32(file + l.FileFlags),
                Protocol = protocol, IsAnonymous = anon,
            };
        }
        catch (KdumpException ex)
        {
            return new CrashFile
            {
                Vmcore = task.Vmcore, Pid = task.Pid, Task = task.Task, Command = task.Command, Owner = owner,
                Fd = fd, File = file, Dentry = dentry, Inode = inode, Type = "?", Path = $"(unreadable: {ex.Message})",
            };
        }
    }

    /// <summary>crash's file type for an i_mode.</summary>
    public static string TypeOf(uint mode) => (mode & 0xF000) switch
    {
        0x8000 => "REG",
        0x4000 => "DIR",
        0x2000 => "CHR",
        0x6000 => "BLK",
        0x1000 => "FIFO",
        0xC000 => "SOCK",
        0xA000 => "LNK",
        _ => "UNKN",
    };
}
