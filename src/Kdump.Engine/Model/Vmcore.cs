using Kdump.Engine.Dump;
using Kdump.Engine.Program;
using Kdump.Engine.Symbols;
using Kdump.Engine.Translation;

namespace Kdump.Engine.Model;

/// <summary>
/// An open crash dump as the PowerShell user sees it (Open-Vmcore's output): what the dump is and holds, plus the
/// debug files given for the symbol layer. The engine object underneath is <see cref="Dump"/>.
/// </summary>
public sealed class Vmcore : IDisposable
{
    private static int s_nextId;

    public Vmcore(DumpFile dump, string? vmlinux = null, string? systemMap = null)
    {
        Dump = dump;
        Id = Interlocked.Increment(ref s_nextId);
        Vmlinux = vmlinux;
        SystemMap = systemMap;
        OpenedAt = DateTimeOffset.Now;
    }

    /// <summary>A number unique in this process, for telling open dumps apart.</summary>
    public int Id { get; }
    public DumpFile Dump { get; }
    public string Path => Dump.Path;
    public IReadOnlyList<string> Paths => Dump.Paths;
    public string Name => System.IO.Path.GetFileName(Dump.Path) + (Dump.Paths.Count > 1 ? $" (+{Dump.Paths.Count - 1})" : "");
    public DumpFormat Format => Dump.Format;
    public DumpFormat PayloadFormat => Dump.PayloadFormat;
    public string Producer => Dump.Producer;
    public IReadOnlyList<string> ProducerHints => Dump.ProducerHints;
    public DumpCompression Compression => Dump.Compression;
    public int? HeaderVersion => Dump.HeaderVersion;
    public int? DumpLevel => Dump.DumpLevel;
    public IReadOnlyList<string> ExcludedPageClasses => Dump.ExcludedPageClasses;
    public string? Architecture => Dump.Architecture;
    public string? KernelRelease => Dump.KernelRelease;
    public string? KernelVersion => Dump.KernelVersion;
    public string? NodeName => Dump.NodeName;
    public string? BuildId => Dump.BuildId;
    public int PageSize => Dump.PageSize;
    public int? CpuCount => Dump.CpuCount;
    /// <summary>Bytes of RAM the dump describes.</summary>
    public ulong PhysicalMemory => Dump.PhysicalMemory;
    public ulong DumpedPages => Dump.DumpedPages;
    public ulong ExcludedPages => Dump.ExcludedPages;
    public bool Incomplete => Dump.Incomplete;
    public ulong? LostPages => Dump.LostPages;
    public long? PhysBase => Dump.PhysBase;
    public ulong? KaslrOffset => Dump.KaslrOffset;
    public int? PanicCpu => Dump.PanicCpu;
    public DateTimeOffset? Timestamp => Dump.Timestamp;
    public VmcoreInfo? VmcoreInfo => Dump.VmcoreInfo;
    public IReadOnlyList<DumpNote> Notes => Dump.Notes;
    public IReadOnlyList<CpuState> Cpus => Dump.Cpus;
    /// <summary>The vmlinux given to Open-Vmcore -Vmlinux, for the symbol and type layers.</summary>
    public string? Vmlinux { get; set; }
    /// <summary>The System.map given to Open-Vmcore -SystemMap.</summary>
    public string? SystemMap { get; set; }
    public DateTimeOffset OpenedAt { get; }
    public bool IsOpen => !Dump.IsDisposed;

    private KernelProgram? _kernel;
    private readonly object _kernelLock = new();

    /// <summary>
    /// The kernel-analysis hub (translation, symbols, types), created on first use so opening a dump stays fast.
    /// Symbols: System.map (when given), then kallsyms from the dump; types: BTF from the dump.
    /// </summary>
    public KernelProgram Kernel
    {
        get
        {
            if (_kernel is { } k) return k;
            lock (_kernelLock)
            {
                if (_kernel is not null) return _kernel;
                var options = X86_64Translator.OptionsFrom(Dump.VmcoreInfo, Dump.Cpus);
                if (Dump.VmcoreInfo is null || !Dump.VmcoreInfo.TryGetNumber("phys_base", out _)) options.PhysBase = Dump.PhysBase ?? 0;
                var program = new KernelProgram(Dump, Dump.VmcoreInfo, Dump.Cpus, null, options);
                if (SystemMap is { Length: > 0 } map)
                    program.AddSymbolFinder(Kdump.Engine.Symbols.SystemMap.Load(map, KaslrOffset ?? 0));
                return _kernel = program;
            }
        }
    }

    /// <summary>True once <see cref="Kernel"/> has been created.</summary>
    public bool KernelLoaded => _kernel is not null;
    /// <summary>The symbol sources in use, in order ("(not loaded)" before the first symbol lookup).</summary>
    public string SymbolSources => _kernel?.SymbolSourceText ?? "(not loaded)";
    /// <summary>The type sources in use, in order ("(not loaded)" before the first type lookup).</summary>
    public string TypeSources => _kernel?.TypeSourceText ?? "(not loaded)";

    public void ReadPhysical(ulong address, Span<byte> destination) => Dump.ReadPhysical(address, destination);
    public int TryReadPhysical(ulong address, Span<byte> destination, out PageStatus status) => Dump.TryReadPhysical(address, destination, out status);

    public void Dispose() => Dump.Dispose();

    public override string ToString() => $"{Name} [{Format}{(Compression != DumpCompression.None ? "/" + Compression : "")}] {KernelRelease}";
}
