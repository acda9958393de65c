using Kdump.Engine.Linux.Fs;
using Kdump.Engine.Linux.Modules;
using Kdump.Engine.Linux.Stack;
using Kdump.Engine.Linux.Tasks;

namespace Kdump.Engine.Program;

/// <summary>
/// Everything a <see cref="KernelProgram"/> derives once from its dump and keeps: the task table, the module list,
/// the unwind tables, structure layouts. One instance per program (never static, so two dumps open at once never
/// see each other's answers, and the answer never depends on which caller asked first); each slot has its own lock,
/// there is no process-wide one. <see cref="KernelProgram.InvalidateCaches"/> empties every slot.
/// </summary>
public sealed class KernelCaches
{
    internal CacheSlot<TaskTable> Tasks { get; } = new();
    internal CacheSlot<TaskStates> TaskStates { get; } = new();
    internal CacheSlot<ModuleReader.ModuleList> Modules { get; } = new();
    internal CacheSlot<ModuleSymbolFinder.Loaded> ModuleSymbols { get; } = new();
    internal CacheSlot<KernelUnwindInfo> UnwindInfo { get; } = new();
    internal CacheSlot<FsLayout> FsLayout { get; } = new();
    internal CacheSlot<KernelWalkers.MapleLayout> MapleLayout { get; } = new();
    internal CacheSlot<KernelWalkers.RbLayout> RbLayout { get; } = new();
    internal CacheSlot<ulong[]> PerCpuOffsets { get; } = new();

    private IEnumerable<ICacheSlot> All => new ICacheSlot[] { Tasks, TaskStates, Modules, ModuleSymbols, UnwindInfo, FsLayout, MapleLayout, RbLayout, PerCpuOffsets };

    /// <summary>Names of the slots that hold a value (for diagnostics and tests).</summary>
    public IReadOnlyList<string> Filled => All.Where(s => s.HasValue).Select(s => s.Name).ToArray();

    /// <summary>Empties every slot; the next use rebuilds from the dump.</summary>
    public void Clear() { foreach (var s in All) s.Clear(); }
}

internal interface ICacheSlot
{
    string Name { get; }
    bool HasValue { get; }
    void Clear();
}

/// <summary>One lazily built value with its own lock. A factory that throws leaves the slot empty.</summary>
internal sealed class CacheSlot<T> : ICacheSlot where T : class
{
    private readonly object _lock = new();
    private T? _value;

    public string Name => typeof(T).Name;
    public bool HasValue => Volatile.Read(ref _value) is not null;

    public T GetOrCreate(Func<T> create)
    {
        if (Volatile.Read(ref _value) is { } v) return v;
        lock (_lock)
        {
            if (_value is { } w) return w;
            var made = create();
            Volatile.Write(ref _value, made);
            return made;
        }
    }

    public void Clear() { lock (_lock) Volatile.Write(ref _value, null); }
}
