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

    /// <summary>The signal state of one task.</summary>
    public CrashSignal Read(CrashProcess task)
    {
        ulong t = task.Task;
        ulong signal = _p.ReadU64(t + _tSignal);
        ulong sighand = _p.ReadU64(t + _tSighand);
        var actions = new List<CrashSignalAction>(_actions);
        if (sighand != 0)
        {
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
        }
        bool sigPending = _tFlags is { } fo && (_p.ReadU64(t + fo) & (1UL << TifSigPending)) != 0;
        return new CrashSignal
        {
            Vmcore = _owner, Pid = task.Pid, Task = t, Cpu = task.Cpu, Command = task.Command,
            SignalStruct = signal, SigHand = sighand,
            Threads = signal != 0 ? unchecked((int)_p.ReadU32(signal + _sNrThreads)) : 0,
            SigPending = sigPending,
            Blocked = _p.ReadU64(t + _tBlocked),
            Pending = _p.ReadU64(t + _tPending + _pSignal),
            SharedPending = signal != 0 ? _p.ReadU64(signal + _sShared + _pSignal) : 0,
            PendingQueue = Queue(t + _tPending + _pList),
            SharedQueue = signal != 0 ? Queue(signal + _sShared + _pList) : Array.Empty<CrashSignalQueued>(),
            Actions = actions,
        };
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
