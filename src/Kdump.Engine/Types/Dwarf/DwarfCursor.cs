using System.Buffers.Binary;

namespace Kdump.Engine.Types.Dwarf;

/// <summary>A bounds-checked little-endian reader over one DWARF section. Positions are section offsets.</summary>
internal ref struct DwarfCursor
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;
    private int _end;

    public DwarfCursor(ReadOnlySpan<byte> data, int position = 0, int end = -1)
    {
        _data = data;
        _end = end < 0 || end > data.Length ? data.Length : end;
        if ((uint)position > (uint)_end) throw DwarfErrors.Truncated(position);
        _pos = position;
    }

    public int Position
    {
        readonly get => _pos;
        set { if ((uint)value > (uint)_end) throw DwarfErrors.Truncated(value); _pos = value; }
    }
    public readonly int End => _end;
    public readonly bool AtEnd => _pos >= _end;
    public readonly ReadOnlySpan<byte> Data => _data;

    /// <summary>Narrows the readable window (a unit's end).</summary>
    public void Limit(int end) { if (end < _pos || end > _data.Length) throw DwarfErrors.Truncated(end); _end = end; }

    private void Need(int n) { if (n < 0 || _pos > _end - n) throw DwarfErrors.Truncated(_pos); }

    public byte U8() { Need(1); return _data[_pos++]; }
    public ushort U16() { Need(2); var v = BinaryPrimitives.ReadUInt16LittleEndian(_data[_pos..]); _pos += 2; return v; }
    public uint U24() { Need(3); uint v = (uint)(_data[_pos] | _data[_pos + 1] << 8 | _data[_pos + 2] << 16); _pos += 3; return v; }
    public uint U32() { Need(4); var v = BinaryPrimitives.ReadUInt32LittleEndian(_data[_pos..]); _pos += 4; return v; }
    public ulong U64() { Need(8); var v = BinaryPrimitives.ReadUInt64LittleEndian(_data[_pos..]); _pos += 8; return v; }
    public ulong Offset(bool is64) => is64 ? U64() : U32();

    public ulong Sized(int size) => size switch
    {
        1 => U8(), 2 => U16(), 4 => U32(), 8 => U64(),
        _ => throw DwarfErrors.Invalid($"unsupported operand size {size}", _pos),
    };

    public ulong Uleb()
    {
        ulong result = 0; int shift = 0;
        while (true)
        {
            if (_pos >= _end) throw DwarfErrors.Truncated(_pos);
            byte b = _data[_pos++];
            if (shift < 64) result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
            shift += 7;
            if (shift > 640) throw DwarfErrors.Invalid("LEB128 number too long", _pos);
        }
    }

    public long Sleb()
    {
        long result = 0; int shift = 0; byte b;
        do
        {
            if (_pos >= _end) throw DwarfErrors.Truncated(_pos);
            b = _data[_pos++];
            if (shift < 64) result |= (long)(b & 0x7f) << shift;
            shift += 7;
            if (shift > 640) throw DwarfErrors.Invalid("LEB128 number too long", _pos);
        } while ((b & 0x80) != 0);
        if (shift < 64 && (b & 0x40) != 0) result |= -1L << shift;
        return result;
    }

    public void Skip(ulong n)
    {
        if (n > (ulong)(_end - _pos)) throw DwarfErrors.Truncated(_pos);
        _pos += (int)n;
    }

    /// <summary>Skips a NUL-terminated string, returning its start.</summary>
    public int SkipCString()
    {
        int start = _pos;
        int n = _data[_pos.._end].IndexOf((byte)0);
        if (n < 0) throw DwarfErrors.Truncated(_pos);
        _pos += n + 1;
        return start;
    }
}

internal static class DwarfErrors
{
    public static KdumpException Truncated(long offset) =>
        new("DwarfInvalid", KdumpErrorKind.InvalidData, $"DWARF data is truncated or malformed near offset 0x{offset:x}.", offset);
    public static KdumpException Invalid(string what, long offset) =>
        new("DwarfInvalid", KdumpErrorKind.InvalidData, $"DWARF data is malformed near offset 0x{offset:x}: {what}.", offset);
}
