using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Signals;

/// <summary>
/// Reads a task's signal state (crash's sig): task_struct.signal/sighand/blocked/pending, signal_struct.nr_threads
/// and shared_pending, sighand_struct.action[64] (struct k_sigaction: sa.sa_handler, sa.sa_flags, sa.sa_mask), the
/// sigqueue lists, and TIF_SIGPENDING from thread_info.flags. Offsets are resolved once.
/// </summary>
public sealed class SignalReader
{
    /// <summary>Upper bound on the sigqueue entries walked per list (RLIMIT_SIGPENDING is per user, typically thousands).</summary>
    public const int MaxQueued = 1 << 20;
    /// <summary>TIF_SIGPENDING on x86_64.</summary>
    public const int TifSigPending = 2;

    private readonly KernelProgram _p;
    private readonly Vmcore? _owner;
    private readonly ulong _tSignal, _tSighand, _tBlocked, _tPending, _sNrThreads, _sShared, _hAction, _actSize, _aHandler, _aFlags, _aMask;
    private readonly ulong _pSignal, _pList, _qList, _qInfo, _iSigno;
    private readonly ulong? _tFlags;
    private readonly int _actions;

    public SignalReader(KernelProgram program, Vmcore? owner = null)
    {
        _p = program;
        _owner = owner;
        var task = program.FindType("struct task_struct");
        var sig = program.FindType("struct signal_struct");
        var hand = program.FindType("struct sighand_struct");
        var kact = program.FindType("struct k_sigaction");
        var pend = program.FindType("struct sigpending");
        var q = program.FindType("struct sigqueue");
        _tSignal = Off(task, "signal"); _tSighand = Off(task, "sighand"); _tBlocked = Off(task, "blocked"); _tPending = Off(task, "pending");
        _tFlags = Opt(task, "thread_info.flags");
        _sNrThreads = Off(sig, "nr_threads"); _sShared = Off(sig, "shared_pending");
        _hAction = Off(hand, "action");
        _actSize = kact.Size is > 0 and <= 256 ? kact.Size : throw new KdumpException("TypeIncomplete", KdumpErrorKind.InvalidData, "struct k_sigaction has no usable size.", "k_sigaction");
        _aHandler = Off(kact, "sa.sa_handler"); _aFlags = Off(kact, "sa.sa_flags"); _aMask = Off(kact, "sa.sa_mask");
        _pSignal = Off(pend, "signal"); _pList = Off(pend, "list");
        _qList = Off(q, "list"); _qInfo = Off(q, "info");
        _iSigno = Opt(program.FindType("struct kernel_siginfo"), "si_signo") ?? 0;
        _actions = hand.Resolve() is KStructType hs && hs.TryFindMember("action", out var am, out _) && am.Type.Resolve() is KArrayType { Count: > 0 and <= 128 } aa ? (int)aa.Count : 64;

        static ulong Off(KType t, string m) => KernelObject.MemberOffset(t, m);
        static ulong? Opt(KType t, string m)
        {
            try { return KernelObject.MemberOffset(t, m); }
            catch (KdumpException) { return null; }
        }
    }

    /// <summary>
    /// The signal state of one task. The task_struct's own fields must be readable (else a KdumpException); a
    /// signal_struct, sighand_struct or sigqueue the dump does not hold (a page excluded by the dump level, or
    /// dropped by the producer) leaves its fields at zero / empty and is named in <see cref="CrashSignal.Warnings"/>
    /// with the error id, so one unreadable page costs that part of that task's answer, not the task or the command.
    /// </summary>
    public CrashSignal Read(CrashProcess task)
    {
        ulong t = task.Task;
        ulong signal = _p.ReadU64(t + _tSignal);
        ulong sighand = _p.ReadU64(t + _tSighand);
        ulong blocked = _p.ReadU64(t + _tBlocked), pending = _p.ReadU64(t + _tPending + _pSignal);
        bool sigPending = _tFlags is { } fo && (_p.ReadU64(t + fo) & (1UL << TifSigPending)) != 0;
        var warnings = new List<string>();
        T Part<T>(string what, ulong address, Func<T> read, T fallback)
        {
            try { return read(); }
            catch (KdumpException ex)
            {
                warnings.Add($"{what} at 0x{address:x}: {ex.ErrorId}: {ex.Message}");
                return fallback;
            }
        }
        var actions = sighand == 0 ? new List<CrashSignalAction>() : Part("sighand_struct.action", sighand + _hAction, () => Actions(sighand), new List<CrashSignalAction>());
        int threads = signal == 0 ? 0 : Part("signal_struct.nr_threads", signal + _sNrThreads, () => unchecked((int)_p.ReadU32(signal + _sNrThreads)), 0);
        ulong shared = signal == 0 ? 0 : Part("signal_struct.shared_pending", signal + _sShared, () => _p.ReadU64(signal + _sShared + _pSignal), 0UL);
        var pendingQueue = Part("task_struct.pending.list", t + _tPending + _pList, () => Queue(t + _tPending + _pList), new List<CrashSignalQueued>());
        var sharedQueue = signal == 0 ? new List<CrashSignalQueued>() : Part("signal_struct.shared_pending.list", signal + _sShared + _pList, () => Queue(signal + _sShared + _pList), new List<CrashSignalQueued>());
        return new CrashSignal
        {
            Vmcore = _owner, Pid = task.Pid, Task = t, Cpu = task.Cpu, Command = task.Command,
            SignalStruct = signal, SigHand = sighand, Threads = threads, SigPending = sigPending,
            Blocked = blocked, Pending = pending, SharedPending = shared,
            PendingQueue = pendingQueue, SharedQueue = sharedQueue, Actions = actions, Warnings = warnings,
        };
    }

    private List<CrashSignalAction> Actions(ulong sighand)
    {
        var actions = new List<CrashSignalAction>(_actions);
        var bytes = _p.ReadKernel(sighand + _hAction, checked((int)(_actSize * (ulong)_actions)));
        for (int i = 0; i < _actions; i++)
        {
            int b = (int)(_actSize * (ulong)i);
            actions.Add(new CrashSignalAction
            {
                Signal = i + 1, Action = sighand + _hAction + (ulong)b,
                Handler = BitConverter.ToUInt64(bytes, b + (int)_aHandler),
                Flags = BitConverter.ToUInt64(bytes, b + (int)_aFlags),
                Mask = BitConverter.ToUInt64(bytes, b + (int)_aMask),
            });
        }
        return actions;
    }

    private List<CrashSignalQueued> Queue(ulong head)
    {
        var l = new List<CrashSignalQueued>();
        foreach (var node in _p.ListForEach(head, MaxQueued))
        {
            ulong q = node - _qList;
            l.Add(new CrashSignalQueued { SigInfo = q + _qInfo, Signal = unchecked((int)_p.ReadU32(q + _qInfo + _iSigno)) });
        }
        return l;
    }
}
