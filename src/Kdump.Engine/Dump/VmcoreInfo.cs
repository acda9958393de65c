using System.Globalization;

namespace Kdump.Engine.Dump;

/// <summary>
/// The VMCOREINFO note: ordered KEY=VALUE lines (OSRELEASE, SYMBOL(x), OFFSET(s.f), SIZE(x), LENGTH(x), NUMBER(x),
/// KERNELOFFSET, CRASHTIME ...). SYMBOL/KERNELOFFSET/SYMBOL values are hex without 0x; SIZE/OFFSET/LENGTH decimal;
/// NUMBER decimal or 0x-prefixed hex (arm64).
/// </summary>
public sealed class VmcoreInfo
{
    public const int MaxBytes = 1 << 20;
    private readonly List<KeyValuePair<string, string>> _entries = new();
    private readonly Dictionary<string, string> _map = new(StringComparer.Ordinal);

    public string RawText { get; }
    /// <summary>Where this VMCOREINFO came from (ELF note, kdump sub-header, recovered by scanning memory...).</summary>
    public string Origin { get; }

    public VmcoreInfo(string text, string origin)
    {
        RawText = text;
        Origin = origin;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r', '\0');
            int eq = line.IndexOf('=');
            if (eq <= 0) continue;
            var key = line[..eq];
            var val = line[(eq + 1)..];
            _entries.Add(new(key, val));
            _map[key] = val; // last one wins (CRASHTIME may be appended)
        }
    }

    public IReadOnlyList<KeyValuePair<string, string>> Entries => _entries;
    public int Count => _entries.Count;
    public string? this[string key] => _map.TryGetValue(key, out var v) ? v : null;
    public bool ContainsKey(string key) => _map.ContainsKey(key);

    public string? OsRelease => this["OSRELEASE"];
    public string? BuildId => this["BUILD-ID"];
    public int? PageSize => TryGetDecimal("PAGESIZE", out var v) ? (int)v : null;
    public ulong? KernelOffset => TryGetHex("KERNELOFFSET", out var v) ? v : null;
    public long? CrashTime => this["CRASHTIME"] is { } s && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var t) ? t : null;

    public bool TryGetSymbol(string name, out ulong address) => TryGetHex($"SYMBOL({name})", out address);
    public bool TryGetOffset(string structDotMember, out ulong offset) => TryGetDecimal($"OFFSET({structDotMember})", out offset);
    public bool TryGetSize(string name, out ulong size) => TryGetDecimal($"SIZE({name})", out size);
    public bool TryGetLength(string name, out ulong length) => TryGetDecimal($"LENGTH({name})", out length);

    /// <summary>NUMBER(x): decimal (possibly negative, e.g. phys_base) or 0x-prefixed hex.</summary>
    public bool TryGetNumber(string name, out long value)
    {
        value = 0;
        if (this[$"NUMBER({name})"] is not { } s) return false;
        s = s.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            if (ulong.TryParse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var u)) { value = unchecked((long)u); return true; }
            return false;
        }
        return long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    private bool TryGetHex(string key, out ulong value)
    {
        value = 0;
        if (this[key] is not { } s) return false;
        s = s.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) s = s[2..];
        return ulong.TryParse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }

    private bool TryGetDecimal(string key, out ulong value)
    {
        value = 0;
        return this[key] is { } s && ulong.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Finds a VMCOREINFO text inside a block of memory (for dumps that carry no note).</summary>
    public static int FindInBuffer(ReadOnlySpan<byte> buffer) => buffer.IndexOf("OSRELEASE="u8);
}

/// <summary>Registers of one CPU at the crash: from NT_PRSTATUS (pid, general registers) and QEMU's CPU state note (CR3...).</summary>
public sealed class CpuState
{
    public int Cpu { get; init; }
    /// <summary>pr_pid of the NT_PRSTATUS note: the task running on the CPU (0 for idle).</summary>
    public int? Pid { get; init; }
    /// <summary>x86_64 general registers by name (r15 ... rip, cs, eflags, rsp, ss, fs_base, gs_base ...).</summary>
    public IReadOnlyDictionary<string, ulong> Registers { get; init; } = new Dictionary<string, ulong>();
    /// <summary>Control registers from a QEMU "QEMU" note, when present.</summary>
    public ulong? Cr0 { get; init; }
    public ulong? Cr3 { get; init; }
    public ulong? Cr4 { get; init; }
    public ulong? KernelGsBase { get; init; }
    public ulong? GsBase { get; init; }
    public ulong? Rip => Registers.TryGetValue("rip", out var v) ? v : null;
    public ulong? Rsp => Registers.TryGetValue("rsp", out var v) ? v : null;
}
