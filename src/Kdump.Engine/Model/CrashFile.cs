using Kdump.Engine;
namespace Kdump.Engine.Model;

/// <summary>One open file descriptor of a task (a row of crash's <c>files</c>).</summary>
public sealed class CrashFile : DumpRecord
{
    public int Pid { get; init; }
    public KernelAddress Task { get; init; }
    public string Command { get; init; } = "";
    public int Fd { get; init; }
    /// <summary>struct file address.</summary>
    public KernelAddress File { get; init; }
    public KernelAddress Dentry { get; init; }
    public KernelAddress Inode { get; init; }
    /// <summary>REG DIR CHR BLK FIFO SOCK LNK, or UNKN for anonymous inodes (no file type bits), as crash prints.</summary>
    public string Type { get; init; } = "";
    /// <summary>The path as /proc/PID/fd shows it: the full path across mounts, pipe:[ino], socket:[ino], anon_inode:[name].</summary>
    public string Path { get; init; } = "";
    public ulong InodeNumber { get; init; }
    /// <summary>i_mode (type and permission bits).</summary>
    public uint Mode { get; init; }
    /// <summary>f_pos.</summary>
    public long Position { get; init; }
    /// <summary>f_flags (O_* as in /proc/PID/fdinfo).</summary>
    public uint Flags { get; init; }
    /// <summary>For sockets: the protocol (sk->sk_prot->name: TCP, UDP, UNIX-STREAM ...), as crash shows it.</summary>
    public string? Protocol { get; init; }
    /// <summary>True for anon_inode files (eventfd, epoll, signalfd, timerfd ...).</summary>
    public bool IsAnonymous { get; init; }
    /// <summary>The task's root and working directory (for grouping by task).</summary>
    public CrashTaskFiles? Owner { get; init; }

    public override string ToString() => $"{Fd,3} {File:x16} {Type,-4} {Path}";
}

/// <summary>A task's file context (crash's files header): root, working directory and open descriptors.</summary>
public sealed class CrashTaskFiles : DumpRecord
{
    public int Pid { get; init; }
    public KernelAddress Task { get; init; }
    public int Cpu { get; init; }
    public string Command { get; init; } = "";
    public string Root { get; init; } = "";
    public string Cwd { get; init; } = "";
    public IReadOnlyList<CrashFile> Files { get; internal set; } = Array.Empty<CrashFile>();

    /// <summary>crash's header line for the task.</summary>
    public string Header => $"PID: {Pid,-8} TASK: {Task:x16}  CPU: {Cpu,-3}  COMMAND: \"{Command}\"   ROOT: {Root}    CWD: {Cwd}";
    public override string ToString() => Header;
}
