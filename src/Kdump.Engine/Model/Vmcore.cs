using Kdump.Engine.Dump;
using Kdump.Engine.Program;
using Kdump.Engine.Symbols;
using Kdump.Engine.Translation;
using Kdump.Engine.Types;

namespace Kdump.Engine.Model;

/// <summary>
/// An open crash dump as the PowerShell user sees it (Open-Vmcore's output): what the dump is and holds, plus the
/// debug files given for the symbol layer. The engine object underneath is <see cref="Dump"/>.
/// </summary>
/// <summary>Where types come from when a vmlinux is given.</summary>
public enum TypeSourcePreference
{
    /// <summary>The vmlinux's DWARF when it has some, else its .BTF, else the dump's own BTF.</summary>
    Auto,
    /// <summary>The vmlinux's DWARF (an error when it has none).</summary>
    Dwarf,
    /// <summary>The vmlinux's .BTF section (an error when it has none).</summary>
    Btf,
    /// <summary>The BTF inside the dump; the vmlinux gives symbols only.</summary>
    Dump,
}

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
        Identity = new VmcoreIdentity(this);
    }

    /// <summary>What output records carry to name this dump (Id, Name, Path): plain data, never the live dump.</summary>
    public VmcoreIdentity Identity { get; }

    /// <summary>Throws VmcoreClosed once the dump has been closed: no entry point reads a closed dump or its debug files.</summary>
    public void ThrowIfClosed()
    {
        if (!IsOpen)
            throw new KdumpException("VmcoreClosed", KdumpErrorKind.InvalidArgument,
                $"The dump '{Path}' (Id {Id}) has been closed. Open it again with Open-Vmcore.", Path);
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
            ThrowIfClosed();
            if (_kernel is { } k) return k;
            lock (_kernelLock)
            {
                if (_kernel is not null) return _kernel;
                // the architecture (translator, registers, unwinder) comes from the registry, by the dump's machine
                var program = new KernelProgram(Dump, Dump.VmcoreInfo, Dump.Cpus, null,
                    new KernelProgramOptions { Architecture = Dump.Architecture, DumpPhysBase = Dump.PhysBase });
                program.Owner = this;
                if (SystemMap is { Length: > 0 } map)
                    program.AddSymbolFinder(Kdump.Engine.Symbols.SystemMap.Load(map, KaslrOffset ?? 0));
                return _kernel = program;
            }
        }
    }

    private VmlinuxFile? _vmlinuxFile;

    /// <summary>
    /// Attaches a vmlinux for symbols and types: checks that it is the dump's kernel (BUILD-ID, release,
    /// linux_banner; a mismatch throws VmlinuxMismatch unless <paramref name="force"/>), then puts its ELF symbols
    /// ahead of kallsyms and its types (per <paramref name="types"/>) ahead of the dump's BTF. The DWARF index is
    /// built on the first type lookup.
    /// </summary>
    public void AttachVmlinux(string path, bool force, TypeSourcePreference types, EngineHost? host = null)
    {
        host ??= EngineHost.Null;
        ThrowIfClosed();
        // Finders are added to the shared kernel hub, and answers (the task table) are cached from it: attaching a
        // second vmlinux would stack finders behind answers already given, so only the same file is accepted again.
        if (_vmlinuxFile is not null)
        {
            if (string.Equals(System.IO.Path.GetFullPath(path), System.IO.Path.GetFullPath(_vmlinuxFile.Path), StringComparison.Ordinal)) return;
            throw new KdumpException("VmlinuxAlreadyAttached", KdumpErrorKind.InvalidArgument,
                $"'{Name}' already uses the vmlinux '{_vmlinuxFile.Path}'; open the dump again with -Force to use '{path}'.", path);
        }
        var file = VmlinuxFile.Open(path, host);
        try
        {
            var program = Kernel;
            var identity = DumpIdentity.FromVmcoreInfo(Dump.VmcoreInfo, (a, n) =>
            {
                try { return program.ReadKernel(a, n); }
                catch (KdumpException) { return null; }
            });
            var match = VmlinuxMatcher.Check(identity, file, force, host);
            host.Verbose($"vmlinux {path}: build-id {file.BuildId ?? "none"}, release {file.Release ?? "unknown"}; {(match.Verified ? "matches the dump" : "could not be verified against the dump")}.");
            if (file.GetSymbolFinder(KaslrOffset ?? 0) is { } syms) program.AddSymbolFinder(syms, first: true);
            ITypeFinder? finder = types switch
            {
                TypeSourcePreference.Dwarf => file.HasDwarf ? file.CreateLazyTypeFinder()
                    : throw new KdumpException("VmlinuxNoDwarf", KdumpErrorKind.NotFound, $"'{path}' has no DWARF debug information; install the kernel's debuginfo package or use -TypeSource Btf.", path),
                TypeSourcePreference.Btf => file.HasBtf ? file.GetBtfTypeFinder()
                    : throw new KdumpException("VmlinuxNoBtf", KdumpErrorKind.NotFound, $"'{path}' has no .BTF section.", path),
                TypeSourcePreference.Dump => null,
                _ => file.CreateLazyTypeFinder(),
            };
            if (finder is not null)
            {
                program.AddTypeFinder(finder, first: true);
                program.UseDumpBtf = false;
            }
            _vmlinuxFile?.Dispose();
            _vmlinuxFile = file;
            Vmlinux = file.Path;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>True once <see cref="Kernel"/> has been created.</summary>
    public bool KernelLoaded => _kernel is not null;
    /// <summary>The symbol sources in use, in order ("(not loaded)" before the first symbol lookup).</summary>
    public string SymbolSources => !IsOpen ? "(closed)" : _kernel?.SymbolSourceText ?? "(not loaded)";
    /// <summary>The type sources in use, in order ("(not loaded)" before the first type lookup).</summary>
    public string TypeSources => !IsOpen ? "(closed)" : _kernel?.TypeSourceText ?? "(not loaded)";

    public void ReadPhysical(ulong address, Span<byte> destination) { ThrowIfClosed(); Dump.ReadPhysical(address, destination); }
    public int TryReadPhysical(ulong address, Span<byte> destination, out PageStatus status) { ThrowIfClosed(); return Dump.TryReadPhysical(address, destination, out status); }

    /// <summary>Closes the dump and its debug files; every later use throws VmcoreClosed.</summary>
    public void Dispose()
    {
        // The dump first, so IsOpen is false before the vmlinux mapping goes away.
        Dump.Dispose();
        _vmlinuxFile?.Dispose();
    }

    public override string ToString() => $"{Name} [{Format}{(Compression != DumpCompression.None ? "/" + Compression : "")}] {KernelRelease}";
}
