using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Ipc;

/// <summary>
/// System V IPC objects of a dump (crash's ipcs): every IPC namespace — init_ipc_ns and those reachable from the
/// tasks' nsproxy->ipc_ns, each once — and in each the shm, sem and msg idr (ipc_ids.ipcs_idr, an xarray). An object
/// that cannot be read is reported through the error callback with an id and the walk goes on.
/// </summary>
public sealed class IpcReader
{
    /// <summary>IPCMNI with ipcmni_extend is 16M; the idr of one namespace never holds more.</summary>
    public const int MaxObjectsPerNamespace = 1 << 24;
    /// <summary>Most namespaces visited.</summary>
    public const int MaxNamespaces = 65536;
    /// <summary>IPCMNI_SHIFT: the sequence shift without ipcmni_extend.</summary>
    public const int DefaultSeqShift = 15;

    private readonly KernelProgram _p;
    private readonly KType _ns;
    private readonly int _seqShift;

    public IpcReader(KernelProgram program)
    {
        _p = program ?? throw new ArgumentNullException(nameof(program));
        _ns = program.TryFindType("struct ipc_namespace")
            ?? throw new KdumpException("IpcTypesMissing", KdumpErrorKind.NotFound,
                $"The kernel's struct ipc_namespace is not known ({program.TypeSourceText}); System V IPC cannot be read.", "struct ipc_namespace");
        _seqShift = DefaultSeqShift;
        if (program.FindSymbol("ipc_mni_shift") is { } s)
        {
            try { int v = unchecked((int)program.ReadU32(s.Address)); if (v is > 0 and < 31) _seqShift = v; }
            catch (KdumpException) { /* keep IPCMNI_SHIFT */ }
        }
    }

    /// <summary>The sequence shift of IPC ids (ipcmni_seq_shift(): 15, or 24 with ipcmni_extend).</summary>
    public int SeqShift => _seqShift;

    /// <summary>init_ipc_ns first, then every other namespace a task's nsproxy points at, each once.</summary>
    public IReadOnlyList<ulong> FindNamespaces(Action<string> onWarning, CancellationToken cancellation = default)
    {
        var list = new List<ulong>();
        var init = _p.GetSymbol("init_ipc_ns").Address;
        list.Add(init);
        var seen = new HashSet<ulong> { init };
        TaskTable tasks;
        try { tasks = TaskTable.Get(_p, cancellation: cancellation); }
        catch (KdumpException ex) { onWarning($"Cannot list the tasks, so only init_ipc_ns is shown: {ex.Message}"); return list; }
        var task = _p.TryFindType("struct task_struct");
        var nsproxy = _p.TryFindType("struct nsproxy");
        if (task is null || nsproxy is null) { onWarning("struct task_struct or struct nsproxy is unknown; only init_ipc_ns is shown."); return list; }
        ulong nsproxyOff = KernelObject.MemberOffset(task, "nsproxy"), ipcOff = KernelObject.MemberOffset(nsproxy, "ipc_ns");
        int failed = 0;
        foreach (var t in tasks.Tasks)
        {
            cancellation.ThrowIfCancellationRequested();
            try
            {
                ulong nsp = _p.ReadU64(t.Task + nsproxyOff);
                if (nsp == 0) continue; // exited task
                ulong ns = _p.ReadU64(nsp + ipcOff);
                if (ns != 0 && seen.Add(ns))
                {
                    if (list.Count >= MaxNamespaces) { onWarning($"More than {MaxNamespaces} IPC namespaces; the rest are skipped."); break; }
                    list.Add(ns);
                }
            }
            catch (KdumpException) { failed++; }
        }
        if (failed > 0) onWarning($"The IPC namespace of {failed} task(s) could not be read.");
        return list;
    }

    /// <summary>The objects of the given kinds in every namespace.</summary>
    public IEnumerable<CrashIpcObject> Enumerate(IReadOnlyCollection<CrashIpcKind> kinds, Action<KdumpException> onError, Action<string> onWarning,
        CancellationToken cancellation = default)
    {
        var namespaces = FindNamespaces(onWarning, cancellation);
        ulong init = namespaces[0];
        foreach (var kind in new[] { CrashIpcKind.Shm, CrashIpcKind.Sem, CrashIpcKind.Msg })
        {
            if (!kinds.Contains(kind)) continue;
            foreach (var ns in namespaces)
                foreach (var o in EnumerateNamespace(ns, kind, ns == init, onError, onWarning, cancellation))
                    yield return o;
        }
    }

    /// <summary>IPC_SEM_IDS 0, IPC_MSG_IDS 1, IPC_SHM_IDS 2.</summary>
    private static int IdsIndex(CrashIpcKind kind) => kind switch { CrashIpcKind.Sem => 0, CrashIpcKind.Msg => 1, _ => 2 };

    /// <summary>The objects of one kind in one namespace, in idr index order.</summary>
    public IEnumerable<CrashIpcObject> EnumerateNamespace(ulong ns, CrashIpcKind kind, bool isInit, Action<KdumpException> onError, Action<string> onWarning,
        CancellationToken cancellation = default)
    {
        var ids = new KernelObject(_p, ns, _ns).Member($"ids[{IdsIndex(kind)}]");
        var idr = ids.Member("ipcs_idr");
        ulong rt = idr.Member("idr_rt").Address;
        uint idrBase = idr.HasMember("idr_base") ? idr.ReadField<uint>("idr_base") : 0;
        var (typeName, permMember) = kind switch
        {
            CrashIpcKind.Shm => ("struct shmid_kernel", "shm_perm"),
            CrashIpcKind.Sem => ("struct sem_array", "sem_perm"),
            _ => ("struct msg_queue", "q_perm"),
        };
        var type = _p.FindType(typeName);
        ulong permOff = KernelObject.MemberOffset(type, permMember);
        var entries = new List<KernelWalkers.XArrayEntry>();
        try
        {
            foreach (var e in _p.XArrayForEach(rt, MaxObjectsPerNamespace))
            {
                cancellation.ThrowIfCancellationRequested();
                entries.Add(e);
            }
        }
        catch (KdumpException ex)
        {
            onError(new KdumpException("IpcIdrUnreadable", ex.Kind == KdumpErrorKind.LimitExceeded ? ex.Kind : KdumpErrorKind.ReadError,
                $"The {kind} idr of IPC namespace 0x{ns:x} cannot be walked completely ({entries.Count} objects read): {ex.Message}", ns, ex));
        }
        foreach (var e in entries)
        {
            CrashIpcObject? o = null;
            int index = unchecked((int)(e.Index + idrBase));
            try { o = Read(kind, type, e.Value - permOff, permMember, index, ns, isInit, onWarning); }
            catch (KdumpException ex)
            {
                onError(new KdumpException("IpcObjectUnreadable", KdumpErrorKind.ReadError,
                    $"{kind} object {index} of IPC namespace 0x{ns:x} (kern_ipc_perm 0x{e.Value:x}) cannot be read: {ex.Message}", e.Value, ex));
            }
            if (o is not null) yield return o;
        }
    }

    private CrashIpcObject Read(CrashIpcKind kind, KType type, ulong address, string permMember, int index, ulong ns, bool isInit, Action<string> onWarning)
    {
        var obj = new KernelObject(_p, address, type);
        var perm = obj.Member(permMember);
        int id = perm.ReadField<int>("id");
        ulong seq = perm.HasMember("seq") ? perm.ReadField<ulong>("seq") : 0;
        long expected = ((long)seq << _seqShift) + index;
        if (perm.HasMember("seq") && expected != id)
            onWarning($"{kind} object at 0x{address:x}: kern_ipc_perm.id is {id}, but seq {seq} and index {index} give {expected}.");
        int key = perm.ReadField<int>("key");
        uint uid = perm.ReadField<uint>("uid.val"), gid = perm.ReadField<uint>("gid.val");
        uint cuid = perm.ReadField<uint>("cuid.val"), cgid = perm.ReadField<uint>("cgid.val");
        uint mode = perm.ReadField<uint>("mode");
        switch (kind)
        {
            case CrashIpcKind.Shm:
                {
                    var status = new List<string>();
                    if ((mode & 0x200) != 0) status.Add("dest");   // SHM_DEST 01000
                    if ((mode & 0x400) != 0) status.Add("locked"); // SHM_LOCKED 02000
                    return new CrashIpcSharedMemory
                    {
                        Address = address, Key = key, Id = id, Index = index, Uid = uid, Gid = gid, CreatorUid = cuid, CreatorGid = cgid, Mode = mode,
                        Namespace = ns, IsInitNamespace = isInit,
                        Bytes = obj.ReadField<ulong>("shm_segsz"), NAttach = obj.ReadField<ulong>("shm_nattch"), Status = string.Join(" ", status),
                    };
                }
            case CrashIpcKind.Sem:
                return new CrashIpcSemaphore
                {
                    Address = address, Key = key, Id = id, Index = index, Uid = uid, Gid = gid, CreatorUid = cuid, CreatorGid = cgid, Mode = mode,
                    Namespace = ns, IsInitNamespace = isInit, NSems = obj.ReadField<int>("sem_nsems"),
                };
            default:
                return new CrashIpcMessageQueue
                {
                    Address = address, Key = key, Id = id, Index = index, Uid = uid, Gid = gid, CreatorUid = cuid, CreatorGid = cgid, Mode = mode,
                    Namespace = ns, IsInitNamespace = isInit,
                    UsedBytes = obj.ReadField<ulong>("q_cbytes"), Messages = obj.ReadField<ulong>("q_qnum"), MaxBytes = obj.ReadField<ulong>("q_qbytes"),
                };
        }
    }
}
