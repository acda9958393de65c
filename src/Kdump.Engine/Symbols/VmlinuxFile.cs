using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Kdump.Engine.Types;
using Kdump.Engine.Types.Dwarf;

namespace Kdump.Engine.Symbols;

/// <summary>
/// A vmlinux (an image, a debuginfo vmlinux, or a stripped image plus its separate debug file found through
/// .gnu_debuglink / build-id): its identity (build-id, release, linux_banner), its ELF symbols, its DWARF types
/// (indexed on first use) and its .BTF section. Keep it open while its finders are in use.
/// </summary>
public sealed partial class VmlinuxFile : IDisposable
{
    /// <summary>Longest linux_banner we read.</summary>
    public const int MaxBannerBytes = 1024;
    /// <summary>Directories searched for separate debug files (as GDB does).</summary>
    public static readonly IReadOnlyList<string> DefaultDebugDirectories = new[] { "/usr/lib/debug" };

    private readonly ElfImage _image;
    private readonly ElfImage? _debug;
    private readonly EngineHost _host;
    // Opened on first use under a lock; failures (cancellation, corrupt data) are not cached so a retry can succeed.
    private readonly object _typesLock = new();
    private DwarfTypeFinder? _dwarf;
    private BtfTypeFinder? _btf;
    private bool _dwarfOpened, _btfOpened;
    private readonly object _lock = new();
    private readonly Dictionary<ulong, SymbolTable> _symbols = new();

    /// <summary>The file that was opened.</summary>
    public string Path { get; }
    /// <summary>The separate debug file DWARF comes from, when the image itself has none.</summary>
    public string? DebugFilePath => _debug?.Path;
    /// <summary>GNU build-id as lower-case hex, or null.</summary>
    public string? BuildId { get; }
    /// <summary>linux_banner ("Linux version 6.1.0-18-amd64 (...) #1 SMP ...\n"), or null when the file has no .rodata contents.</summary>
    public string? Banner { get; }
    /// <summary>Kernel release from the banner (e.g. "6.1.0-18-amd64"), or null.</summary>
    public string? Release { get; }
    /// <summary>Link-time address of linux_banner (no KASLR), when the symbol table has it.</summary>
    public ulong? BannerAddress { get; }
    public bool HasSymbols { get; }
    public bool HasDwarf { get; }
    public bool HasBtf { get; }

    private VmlinuxFile(ElfImage image, ElfImage? debug, EngineHost host)
    {
        _image = image; _debug = debug; _host = host; Path = image.Path;
        BuildId = ReadBuildId(image) ?? (debug is null ? null : ReadBuildId(debug));
        HasSymbols = VmlinuxSymbols.HasSymbols(image) || debug is not null && VmlinuxSymbols.HasSymbols(debug);
        HasDwarf = ElfImage.HasData(image.FindSection(".debug_info")) || debug is not null && ElfImage.HasData(debug.FindSection(".debug_info"));
        HasBtf = ElfImage.HasData(image.FindSection(".BTF"));
        (Banner, BannerAddress) = ReadBanner(image, debug);
        Release = ReleaseFromBanner(Banner);
    }

    /// <summary>
    /// Opens a vmlinux. A stripped image whose debug file cannot be found, and that has neither symbols nor BTF,
    /// is refused with <c>VmlinuxStripped</c>. <paramref name="debugFile"/> names the separate debug file explicitly.
    /// </summary>
    public static VmlinuxFile Open(string path, EngineHost? host = null, string? debugFile = null, IEnumerable<string>? debugDirectories = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        host ??= EngineHost.Null;
        var image = ElfImage.Open(path);
        ElfImage? debug = null;
        try
        {
            CheckMachine(image);
            bool hasDwarf = ElfImage.HasData(image.FindSection(".debug_info"));
            if (debugFile is not null) debug = ElfImage.Open(debugFile);
            else if (!hasDwarf) debug = FindDebugFile(image, host, debugDirectories ?? DefaultDebugDirectories);
            if (debug is not null)
            {
                string? a = ReadBuildId(image), b = ReadBuildId(debug);
                if (a is not null && b is not null && a != b)
                    throw new KdumpException("VmlinuxDebugFileMismatch", KdumpErrorKind.Mismatch,
                        $"The debug file '{debug.Path}' (build-id {b}) does not belong to '{path}' (build-id {a}).", debug.Path);
            }
            var v = new VmlinuxFile(image, debug, host);
            if (!v.HasSymbols && !v.HasDwarf && !v.HasBtf)
                throw new KdumpException("VmlinuxStripped", KdumpErrorKind.InvalidData,
                    $"'{path}' is stripped: it has no symbol table, no DWARF debug info and no .BTF section" +
                    (v.Release is { } r ? $". {VmlinuxMatcher.InstallHint(r)}" : ". Use the debuginfo vmlinux of the dump's kernel (for example /usr/lib/debug/boot/vmlinux-<release> from linux-image-<release>-dbg, or /usr/lib/debug/lib/modules/<release>/vmlinux from kernel-debuginfo-<release>)."),
                    path);
            host.Verbose($"vmlinux {path}: build-id {v.BuildId ?? "none"}, release {v.Release ?? "unknown"}, symbols {v.HasSymbols}, DWARF {v.HasDwarf}{(debug is null ? "" : $" (from {debug.Path})")}, BTF {v.HasBtf}");
            return v;
        }
        catch
        {
            debug?.Dispose();
            image.Dispose();
            throw;
        }
    }

    private static void CheckMachine(ElfImage image)
    {
        const ushort EmX86_64 = 62, EmAarch64 = 183;
        if (image.Machine is not (EmX86_64 or EmAarch64))
            throw new KdumpException("VmlinuxFormatUnsupported", KdumpErrorKind.NotSupported, $"'{image.Path}' is for ELF machine {image.Machine}; x86_64 kernels are supported.", image.Path);
    }

    /// <summary>The ELF symbols, shifted by <paramref name="kaslrOffset"/> (VMCOREINFO KERNELOFFSET). Built once per offset.</summary>
    public ISymbolFinder? GetSymbolFinder(ulong kaslrOffset = 0)
    {
        if (!HasSymbols) return null;
        lock (_lock)
        {
            if (_symbols.TryGetValue(kaslrOffset, out var t)) return t;
            var src = VmlinuxSymbols.HasSymbols(_image) ? _image : _debug!;
            t = VmlinuxSymbols.Read(src, kaslrOffset, _host.Cancellation);
            _symbols[kaslrOffset] = t;
            return t;
        }
    }

    /// <summary>The DWARF type finder, indexed on first call; null when there is no DWARF.</summary>
    public ITypeFinder? GetDwarfTypeFinder() => DwarfFinder;

    internal DwarfTypeFinder? DwarfFinder
    {
        get
        {
            lock (_typesLock)
            {
                if (!_dwarfOpened) { _dwarf = OpenDwarf(); _dwarfOpened = true; }
                return _dwarf;
            }
        }
    }

    private DwarfTypeFinder? OpenDwarf()
    {
        var src = ElfImage.HasData(_image.FindSection(".debug_info")) ? _image : _debug;
        if (src is null) return null;
        var sw = Stopwatch.StartNew();
        _host.Progress("Opening vmlinux", $"Indexing DWARF of {src.Path}", -1);
        var f = DwarfTypeFinder.TryOpen(src, _host.Cancellation);
        _host.Verbose($"DWARF {src.Path}: {f?.UnitCount} units, {f?.IndexedNames} names indexed in {sw.ElapsedMilliseconds} ms");
        return f;
    }

    /// <summary>
    /// A BTF type finder over the file's .BTF section (parsed on first call), or null when the file has none.
    /// Malformed BTF throws the BTF reader's <c>BtfCorrupt</c>.
    /// </summary>
    public ITypeFinder? GetBtfTypeFinder()
    {
        lock (_typesLock)
        {
            if (!_btfOpened) { _btf = OpenBtf(); _btfOpened = true; }
            return _btf;
        }
    }

    private BtfTypeFinder? OpenBtf()
    {
        if (ReadBtf() is not { } blob) return null;
        var sw = Stopwatch.StartNew();
        var f = new BtfTypeFinder(blob, $"BTF in {Path} (.BTF section)");
        _host.Verbose($"BTF {Path}: {f.TypeCount} types in {sw.ElapsedMilliseconds} ms");
        return f;
    }

    /// <summary>The best type finder the file offers: DWARF when present, else BTF; null when neither.</summary>
    public ITypeFinder? GetTypeFinder() => HasDwarf ? GetDwarfTypeFinder() : GetBtfTypeFinder();

    /// <summary>
    /// Like <see cref="GetTypeFinder"/>, but the DWARF index (or BTF parse) is built on the first lookup, so
    /// opening a dump with a vmlinux stays fast when only symbols are needed. Null when the file has no types.
    /// </summary>
    public ITypeFinder? CreateLazyTypeFinder() => HasDwarf || HasBtf ? new DeferredTypeFinder(this) : null;

    private sealed class DeferredTypeFinder : ITypeFinder
    {
        private readonly VmlinuxFile _file;
        public DeferredTypeFinder(VmlinuxFile file) { _file = file; }
        private ITypeFinder? Inner => _file.GetTypeFinder();
        public string Source => _file.HasDwarf ? $"DWARF {_file.DebugFilePath ?? _file.Path}" : $"BTF in {_file.Path} (.BTF section)";
        public KType? FindType(TypeKind kind, string name) => Inner?.FindType(kind, name);
        public KType? FindVariableType(string name) => Inner?.FindVariableType(name);
        public bool TryFindEnumerator(string name, out long value)
        {
            if (Inner is { } f) return f.TryFindEnumerator(name, out value);
            value = 0;
            return false;
        }
    }

    /// <summary>A copy of the .BTF section (raw BTF for the BTF parser), or null.</summary>
    public byte[]? ReadBtf()
    {
        var s = _image.FindSection(".BTF");
        return ElfImage.HasData(s) ? _image.SectionData(s!).ToArray() : null;
    }

    /// <summary>The .BTF section without copying; valid while this file is open.</summary>
    public ReadOnlyMemory<byte> BtfMemory => _image.FindSection(".BTF") is { } s && ElfImage.HasData(s) ? _image.SectionData(s) : ReadOnlyMemory<byte>.Empty;

    public void Dispose()
    {
        _debug?.Dispose();
        _image.Dispose();
    }

    internal static string? ReadBuildId(ElfImage elf)
    {
        const uint NtGnuBuildId = 3;
        foreach (var s in elf.Sections)
        {
            if (s.Type != ElfSection.ShtNote || !ElfImage.HasData(s) || s.Size > 1 << 20) continue;
            var d = elf.SectionData(s).Span;
            int p = 0;
            while (p + 12 <= d.Length)
            {
                uint namesz = BinaryPrimitives.ReadUInt32LittleEndian(d[p..]);
                uint descsz = BinaryPrimitives.ReadUInt32LittleEndian(d[(p + 4)..]);
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(d[(p + 8)..]);
                long nameStart = p + 12, descStart = nameStart + ((namesz + 3L) & ~3L), next = descStart + ((descsz + 3L) & ~3L);
                if (descStart + descsz > d.Length || next <= p) break;
                if (type == NtGnuBuildId && namesz == 4 && d.Slice((int)nameStart, 4).SequenceEqual("GNU\0"u8) && descsz is > 0 and <= 64)
                    return Convert.ToHexString(d.Slice((int)descStart, (int)descsz)).ToLowerInvariant();
                if (next > d.Length) break;
                p = (int)next;
            }
        }
        return null;
    }

    private static (string?, ulong?) ReadBanner(ElfImage image, ElfImage? debug)
    {
        var sym = VmlinuxSymbols.FindRaw(image, "linux_banner") ?? (debug is null ? null : VmlinuxSymbols.FindRaw(debug, "linux_banner"));
        if (sym is { } s && s.Section < image.Sections.Count)
        {
            var sec = image.Sections.FirstOrDefault(x => ElfImage.HasData(x) && !x.IsCompressed && (x.Flags & ElfSection.ShfAlloc) != 0
                && s.Value >= x.Address && s.Value - x.Address < x.Size);
            if (sec is not null)
            {
                ulong rel = s.Value - sec.Address;
                long len = (long)Math.Min((ulong)MaxBannerBytes, sec.Size - rel);
                var bytes = image.Bytes((long)(sec.Offset + rel), len);
                int nul = bytes.IndexOf((byte)0);
                var text = Encoding.UTF8.GetString(nul < 0 ? bytes : bytes[..nul]);
                if (text.StartsWith("Linux version ", StringComparison.Ordinal)) return (text, s.Value);
            }
        }
        // No symbol table: look for the banner in .rodata.
        var ro = image.FindSection(".rodata");
        if (ElfImage.HasData(ro) && !ro!.IsCompressed)
        {
            var data = image.SectionData(ro).Span;
            int from = 0;
            while (from < data.Length)
            {
                int i = data[from..].IndexOf("Linux version "u8);
                if (i < 0) break;
                i += from;
                var rest = data[i..Math.Min(data.Length, i + MaxBannerBytes)];
                int nul = rest.IndexOf((byte)0);
                if (nul > 0)
                {
                    var text = Encoding.UTF8.GetString(rest[..nul]);
                    // the real banner has "(builder) (compiler) #N ..." after the release; format strings have '%'
                    if (!text.Contains('%') && text.Contains(" #") && text.Contains(" (")) return (text, null);
                }
                from = i + 1;
            }
        }
        return (null, null);
    }

    /// <summary>"Linux version 6.1.0-18-amd64 (...)" → "6.1.0-18-amd64".</summary>
    public static string? ReleaseFromBanner(string? banner)
    {
        if (banner is null || !banner.StartsWith("Linux version ", StringComparison.Ordinal)) return null;
        var rest = banner.AsSpan("Linux version ".Length);
        int end = rest.IndexOfAny(' ', '\n');
        var r = (end < 0 ? rest : rest[..end]).ToString();
        return r.Length is > 0 and <= 64 ? r : null;
    }
}
