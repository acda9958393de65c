using Kdump.Engine.Linux.Modules;
using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Stack;

/// <summary>
/// The dump's own unwind information: the kernel image's ORC tables (__start_orc_unwind_ip .. __stop_orc_unwind_ip,
/// __start_orc_unwind, found through kallsyms) and each module's (mod->arch.orc_unwind_ip / orc_unwind / num_orcs).
/// The entry format is taken from the type finder (struct orc_entry's bitfields), else the .orc_header hash (≥ 6.4),
/// else the kernel release. No debuginfo is needed. One instance per program (in its caches); tables load on first use.
/// </summary>
public sealed class KernelUnwindInfo : IUnwindInfo
{
    // SHA-1 of the orc_types.h definitions as scripts/orc_hash.sh makes them (.orc_header, ≥ 6.4 and 6.3.10+).
    private static readonly byte[] s_hash64 = { 0xfe, 0x5d, 0x32, 0xbf, 0x58, 0x1b, 0xd6, 0x3b, 0x2c, 0xa9, 0xa5, 0xc6, 0x5b, 0xa5, 0xa6, 0x25, 0xea, 0xb3, 0xfe, 0x24 };
    private static readonly byte[] s_hash63 = { 0xdb, 0x84, 0xae, 0xd4, 0x10, 0x3b, 0x31, 0xdd, 0x51, 0xe0, 0x17, 0xf8, 0xf7, 0x97, 0x83, 0xca, 0x98, 0x5c, 0x2c, 0x51 };

    private readonly KernelProgram _p;
    private readonly object _lock = new();
    private readonly List<string> _notes = new();
    private readonly Dictionary<ulong, OrcTable?> _moduleTables = new();
    private OrcTable? _kernel;
    private bool _loaded;
    private OrcFormat _format;
    private bool _unknownHeader;
    private OrcRegisterMap _registers = OrcRegisterMap.Standard;
    private ulong _stext, _etext, _sinit, _einit;

    private KernelUnwindInfo(KernelProgram p) => _p = p;

    /// <summary>The program's unwind information (one per program, kept in <see cref="KernelProgram.Caches"/>).</summary>
    public static KernelUnwindInfo For(KernelProgram program) => program.Caches.UnwindInfo.GetOrCreate(() => new KernelUnwindInfo(program));

    /// <summary>Problems met while loading tables (shown by Get-CrashBacktrace -Verbose).</summary>
    public IReadOnlyList<string> Notes { get { EnsureLoaded(); lock (_lock) return _notes.ToArray(); } }
    public OrcFormat Format { get { EnsureLoaded(); return _format; } }
    public OrcTable? KernelTable { get { EnsureLoaded(); return _kernel; } }
    /// <summary>The register numbering the tables are decoded with (inferred when the .orc_header hash is unknown).</summary>
    public OrcRegisterMap Registers { get { EnsureLoaded(); return _registers; } }
    public bool FramePointersOnly { get { EnsureLoaded(); return _kernel is null; } }

    private void EnsureLoaded()
    {
        if (_loaded) return;
        lock (_lock)
        {
            if (_loaded) return;
            _stext = Sym("_stext"); _etext = Sym("_etext"); _sinit = Sym("_sinittext"); _einit = Sym("_einittext");
            _format = DetectFormat();
            try { _kernel = LoadKernelTable(); }
            catch (KdumpException ex) { _notes.Add($"ORC: {ex.Message}; unwinding with frame pointers."); }
            _loaded = true;
        }
    }

    private ulong Sym(string name) => _p.FindSymbol(name)?.Address ?? 0;

    private OrcFormat DetectFormat()
    {
        var format = DetectLayout();
        // the register numbering is in no type: a kernel whose .orc_header is not a known format may have renumbered
        // them (Linux 7.1 did); LoadKernelTable infers the numbering from the entries then
        ulong hdr = Sym("__start_orc_header");
        if (hdr != 0)
        {
            try
            {
                var h = _p.ReadKernel(hdr, 20);
                _unknownHeader = !h.AsSpan().SequenceEqual(s_hash64) && !h.AsSpan().SequenceEqual(s_hash63);
            }
            catch (KdumpException) { }
        }
        return format;
    }

    private OrcFormat DetectLayout()
    {
        if (_p.TryFindType("struct orc_entry") is { } t && t.Resolve() is KStructType st)
        {
            bool end = st.TryFindMember("end", out _, out _), signal = st.TryFindMember("signal", out _, out _);
            if (signal && !end) return OrcFormat.V3;
            if (signal) return OrcFormat.V2;
            if (end) return OrcFormat.V1;
        }
        ulong hdr = Sym("__start_orc_header");
        if (hdr != 0)
        {
            try
            {
                var h = _p.ReadKernel(hdr, 20);
                if (h.AsSpan().SequenceEqual(s_hash64)) return OrcFormat.V3;
                if (h.AsSpan().SequenceEqual(s_hash63)) return OrcFormat.V2;
                _notes.Add("ORC: the kernel's .orc_header hash is not a known ORC format; assuming the 6.4 bit layout, registers inferred from the entries.");
                return OrcFormat.V3;
            }
            catch (KdumpException ex) { _notes.Add($"ORC: cannot read .orc_header: {ex.Message}"); }
        }
        var rel = _p.OsRelease ?? "";
        var parts = rel.Split('.', '-');
        if (parts.Length >= 2 && int.TryParse(parts[0], out var major) && int.TryParse(parts[1], out var minor))
            return major > 6 || (major == 6 && minor >= 4) ? OrcFormat.V3 : major == 6 && minor == 3 ? OrcFormat.V2 : OrcFormat.V1;
        return OrcFormat.V1;
    }

    private OrcTable? LoadKernelTable()
    {
        ulong ipStart = Sym("__start_orc_unwind_ip"), ipStop = Sym("__stop_orc_unwind_ip"), orc = Sym("__start_orc_unwind");
        if (ipStart == 0 || ipStop == 0 || orc == 0) { _notes.Add("ORC: the kernel has no ORC tables (__start_orc_unwind_ip unknown); unwinding with frame pointers."); return null; }
        if (ipStop <= ipStart || (ipStop - ipStart) % 4 != 0 || (ipStop - ipStart) / 4 > OrcTable.MaxEntries)
            throw new KdumpException("OrcTableCorrupt", KdumpErrorKind.InvalidData, $"__start_orc_unwind_ip..__stop_orc_unwind_ip spans {ipStop - ipStart} bytes.", ipStart);
        int n = (int)((ipStop - ipStart) / 4);
        var ips = _p.ReadKernel(ipStart, n * 4);
        var ents = _p.ReadKernel(orc, n * 6);
        ulong end = Math.Max(_etext, _einit);
        if (_unknownHeader && _format == OrcFormat.V3)
        {
            if (OrcRegisterMap.Infer(ents) is { } map) { _registers = map; _notes.Add("ORC: unknown .orc_header; " + map.Description + "."); }
            else _notes.Add("ORC: unknown .orc_header and the entries do not tell the register numbering; using the standard one.");
        }
        return OrcTable.Parse("vmlinux", ipStart, ips, ents, _format, _stext != 0 ? _stext : null, end != 0 ? end : null, _registers);
    }

    private OrcTable? ModuleTable(LoadedModule m)
    {
        lock (_lock)
        {
            if (_moduleTables.TryGetValue(m.Object, out var t)) return t;
            t = null;
            if (m.OrcCount > 0 && m.OrcUnwindIp != 0 && m.OrcUnwind != 0)
            {
                try
                {
                    if (m.OrcCount > OrcTable.MaxEntries) throw new KdumpException("OrcTableTooLarge", KdumpErrorKind.LimitExceeded, $"{m.OrcCount} ORC entries.", m.Name);
                    int n = (int)m.OrcCount;
                    var ips = _p.ReadKernel(m.OrcUnwindIp, n * 4);
                    var ents = _p.ReadKernel(m.OrcUnwind, n * 6);
                    t = OrcTable.Parse(m.Name, m.OrcUnwindIp, ips, ents, _format, 0, ulong.MaxValue, _registers);
                }
                catch (KdumpException ex) { _notes.Add($"ORC: module {m.Name}: {ex.Message}"); }
            }
            _moduleTables[m.Object] = t;
            return t;
        }
    }

    private bool InKernelText(ulong ip) => (ip >= _stext && ip < _etext) || (_sinit != 0 && ip >= _sinit && ip < _einit);

    public OrcEntry? FindOrc(ulong ip)
    {
        EnsureLoaded();
        if (InKernelText(ip)) return _kernel?.Find(ip);
        if (ModuleReader.FindByAddress(_p, ip) is { } m && m.ContainsText(ip)) return ModuleTable(m)?.Find(ip);
        return null;
    }

    public ulong? FunctionStart(ulong ip) => _p.Symbolize(ip) is { } s ? s.Symbol.Address : null;

    public bool TryReadCode(ulong address, Span<byte> bytes)
    {
        try { _p.ReadKernel(address, bytes); return true; }
        catch (KdumpException) { return false; }
    }

    public bool IsText(ulong ip)
    {
        EnsureLoaded();
        if (InKernelText(ip)) return true;
        return ModuleReader.FindByAddress(_p, ip) is { } m && m.ContainsText(ip);
    }
}
