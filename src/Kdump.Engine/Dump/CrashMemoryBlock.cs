using System.Text;

namespace Kdump.Engine.Dump;

/// <summary>A run of memory bytes read from a dump (Read-CrashMemory's output), shown like hexdump -C.</summary>
public sealed class CrashMemoryBlock : Kdump.Engine.Model.DumpRecord
{
    public CrashMemoryBlock(ulong address, byte[] bytes, string addressSpace = "physical")
    {
        Address = address;
        Bytes = bytes;
        AddressSpace = addressSpace;
    }

    public KernelAddress Address { get; }
    public byte[] Bytes { get; }
    public int Length => Bytes.Length;
    public string AddressSpace { get; }

    /// <summary>
    /// hexdump -C lines: address (at least 8 hex digits), 16 bytes in two groups of 8, |ASCII|. Addresses wider than 8
    /// digits (kernel virtual) put the bytes in pairs, so every line fits 80 columns.
    /// </summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            var lines = new List<string>((Bytes.Length + 15) / 16);
            var sb = new StringBuilder(80);
            ulong last = Address + (ulong)Math.Max(0, Bytes.Length - 1);
            int width = Math.Max(8, (64 - System.Numerics.BitOperations.LeadingZeroCount(last) + 3) / 4);
            for (int off = 0; off < Bytes.Length; off += 16)
            {
                sb.Clear();
                sb.Append((Address + (ulong)off).ToString("x" + width)).Append("  ");
                int n = Math.Min(16, Bytes.Length - off);
                if (width <= 8)
                {
                    for (int i = 0; i < 16; i++)
                    {
                        if (i < n) sb.Append(Bytes[off + i].ToString("x2")).Append(' ');
                        else sb.Append("   ");
                        if (i == 7) sb.Append(' ');
                    }
                    sb.Append(" |");
                }
                else
                {
                    // 64-bit addresses: bytes in pairs (xxd's grouping, memory order) so a line stays within 80 columns.
                    for (int i = 0; i < 16; i++)
                    {
                        sb.Append(i < n ? Bytes[off + i].ToString("x2") : "  ");
                        if (i % 2 == 1 && i < 15) sb.Append(i == 7 ? "  " : " ");
                    }
                    sb.Append("  |");
                }
                for (int i = 0; i < n; i++)
                {
                    byte b = Bytes[off + i];
                    sb.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
                }
                sb.Append('|');
                lines.Add(sb.ToString());
            }
            return lines;
        }
    }

    public string HexDump => string.Join(Environment.NewLine, Lines);

    public override string ToString() => HexDump;
}
