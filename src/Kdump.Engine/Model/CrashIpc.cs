using Kdump.Engine;
using System.Globalization;

namespace Kdump.Engine.Model;

/// <summary>Which System V IPC facility an object belongs to.</summary>
public enum CrashIpcKind { Shm, Sem, Msg }

/// <summary>What every System V IPC object has (struct kern_ipc_perm): crash's ipcs columns KEY, ID, UID, PERMS.</summary>
public abstract class CrashIpcObject : DumpRecord
{
    public abstract CrashIpcKind Kind { get; }
    /// <summary>The kernel object: struct shmid_kernel, sem_array or msg_queue.</summary>
    public KernelAddress Address { get; init; }
    /// <summary>The IPC key (key_t); 0 is IPC_PRIVATE.</summary>
    public int Key { get; init; }
    /// <summary>The key as crash prints it (8 hex digits).</summary>
    public string KeyHex => unchecked((uint)Key).ToString("x8", CultureInfo.InvariantCulture);
    /// <summary>The identifier user space sees (shmid, semid, msqid): sequence &lt;&lt; ipcmni_seq_shift | index.</summary>
    public int Id { get; init; }
    /// <summary>Slot in the namespace's idr.</summary>
    public int Index { get; init; }
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public uint CreatorUid { get; init; }
    public uint CreatorGid { get; init; }
    /// <summary>kern_ipc_perm.mode (permission bits and SHM_DEST/SHM_LOCKED).</summary>
    public uint Mode { get; init; }
    /// <summary>Permission bits in octal, as ipcs prints them ("600").</summary>
    public string Perms => Convert.ToString(Mode & 0x1ff, 8);
    /// <summary>The struct ipc_namespace the object lives in.</summary>
    public KernelAddress Namespace { get; init; }
    public bool IsInitNamespace { get; init; }
}

/// <summary>A shared memory segment (struct shmid_kernel).</summary>
public sealed class CrashIpcSharedMemory : CrashIpcObject
{
    public override CrashIpcKind Kind => CrashIpcKind.Shm;
    /// <summary>Segment size (shm_segsz).</summary>
    public ulong Bytes { get; init; }
    /// <summary>Number of attaches (shm_nattch).</summary>
    public ulong NAttach { get; init; }
    /// <summary>"dest" (SHM_DEST: removed, still attached), "locked" (SHM_LOCKED), both, or empty.</summary>
    public string Status { get; init; } = "";
    public override string ToString() => $"{Address:x16} {KeyHex} {Id,-10} {Uid,-5} {Perms,-5} {Bytes,-10} {NAttach,-6} {Status}";
}

/// <summary>A semaphore set (struct sem_array).</summary>
public sealed class CrashIpcSemaphore : CrashIpcObject
{
    public override CrashIpcKind Kind => CrashIpcKind.Sem;
    public int NSems { get; init; }
    public override string ToString() => $"{Address:x16} {KeyHex} {Id,-10} {Uid,-5} {Perms,-5} {NSems}";
}

/// <summary>A message queue (struct msg_queue).</summary>
public sealed class CrashIpcMessageQueue : CrashIpcObject
{
    public override CrashIpcKind Kind => CrashIpcKind.Msg;
    /// <summary>Bytes of message text queued (q_cbytes).</summary>
    public ulong UsedBytes { get; init; }
    /// <summary>Messages queued (q_qnum).</summary>
    public ulong Messages { get; init; }
    /// <summary>Most bytes the queue may hold (q_qbytes).</summary>
    public ulong MaxBytes { get; init; }
    public override string ToString() => $"{Address:x16} {KeyHex} {Id,-10} {Uid,-5} {Perms,-5} {UsedBytes,-12} {Messages}";
}
