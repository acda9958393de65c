using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.WaitQueue;

/// <summary>
/// The tasks waiting on a wait queue (crash's waitq): the wait_queue_head's <c>head</c> list of wait_queue_entry
/// (<c>entry</c> links, <c>private</c> = the task); kernels before 4.13 name them __wait_queue_head.task_list and
/// __wait_queue.task_list. The walk is bounded and cycle-safe.
/// </summary>
public sealed class WaitQueueReader
{
    /// <summary>Most entries followed on one queue.</summary>
    public const int MaxEntries = 1 << 20;

    private readonly KernelProgram _p;
    private readonly KType _head, _entry;
    private readonly string _headList, _entryList;

    public WaitQueueReader(KernelProgram program)
    {
        _p = program ?? throw new ArgumentNullException(nameof(program));
        if (program.TryFindType("struct wait_queue_head") is { } h && program.TryFindType("struct wait_queue_entry") is { } e)
        { _head = h; _entry = e; _headList = "head"; _entryList = "entry"; }
        else if (program.TryFindType("struct __wait_queue_head") is { } h2 && program.TryFindType("struct __wait_queue") is { } e2)
        { _head = h2; _entry = e2; _headList = "task_list"; _entryList = "task_list"; }
        else throw new KdumpException("WaitQueueTypesMissing", KdumpErrorKind.NotFound,
            $"The kernel's struct wait_queue_head is not known ({program.TypeSourceText}).", "struct wait_queue_head");
    }

    /// <summary>The address of <paramref name="member"/> (a wait_queue_head) inside the <paramref name="type"/> object at <paramref name="address"/>.</summary>
    public ulong MemberAddress(string type, string member, ulong address)
    {
        var t = _p.FindType(type.Contains(' ') ? type : "struct " + type);
        var m = new KernelObject(_p, address, t).Member(member);
        var rt = m.ResolvedType;
        if (rt is not KStructType st || (st.Name != _head.Name))
            throw new KdumpException("MemberNotWaitQueue", KdumpErrorKind.InvalidArgument,
                $"{t.DisplayName}.{member} is a {m.Type.DisplayName}, not a {_head.DisplayName}.", member);
        return m.Address;
    }

    /// <summary>The entries of the wait queue at <paramref name="head"/>, each with its task when private is one.</summary>
    public IEnumerable<CrashWaitQueueEntry> Enumerate(ulong head, TaskTable? tasks, CancellationToken cancellation = default)
    {
        ulong listHead = head + KernelObject.MemberOffset(_head, _headList);
        ulong privOff = KernelObject.MemberOffset(_entry, "private");
        ulong funcOff = KernelObject.MemberOffset(_entry, "func");
        ulong flagsOff = KernelObject.MemberOffset(_entry, "flags");
        foreach (var e in _p.ListForEachEntry(listHead, _entry, _entryList, MaxEntries))
        {
            cancellation.ThrowIfCancellationRequested();
            ulong priv = _p.ReadU64(e.Address + privOff);
            ulong func = _p.ReadU64(e.Address + funcOff);
            uint flags = _p.ReadU32(e.Address + flagsOff);
            var proc = priv == 0 ? null : tasks?.FindByAddress(priv);
            yield return new CrashWaitQueueEntry
            {
                WaitQueue = head, Entry = e.Address, Task = priv, Pid = proc?.Pid, Cpu = proc?.Cpu, Command = proc?.Command ?? "",
                Function = func == 0 ? "" : _p.Symbolize(func) is { } s ? (s.Offset == 0 ? s.Symbol.Name : $"{s.Symbol.Name}+0x{s.Offset:x}") : $"0x{func:x}",
                Flags = flags, Process = proc,
            };
        }
    }
}
